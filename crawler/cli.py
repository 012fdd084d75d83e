"""``linkprospector``: every project command from any folder, no ``scrapy.cfg`` needed.

``linkprospector crawl prospects -a seeds=seeds.txt`` is ``scrapy crawl prospects -a seeds=seeds.txt`` run in the
repository, wherever it is typed. Settings come, weakest first, from ``crawler/settings.py``, a TOML file (``--config
FILE``, else ``linkprospector.toml`` in the working folder, its ``[settings]`` table), environment variables
``LINKPROSPECTOR_<SETTING>`` (and the usual ``REDIS_URL``, ``AWS_*``), then ``-s NAME=VALUE``. A bad argument is one
line and exit 2; an unexpected error is one line and exit 1 (``--debug`` shows the traceback).
"""

from __future__ import annotations

import json
import os
import sys
import tomllib
from pathlib import Path

ENV_PREFIX = "LINKPROSPECTOR_"
CONFIG_NAME = "linkprospector.toml"


def load_config(path: str | Path) -> dict:
    """The ``[settings]`` table of a TOML file; lists and tables become the JSON Scrapy settings accept."""
    with open(path, "rb") as f:
        data = tomllib.load(f)
    table = data.get("settings", {})
    if not isinstance(table, dict):
        raise ValueError(f"{path}: [settings] must be a table of NAME = value")
    return {name: json.dumps(value) if isinstance(value, (list, dict)) else value for name, value in table.items()}


def env_settings(environ=os.environ) -> dict:
    return {key[len(ENV_PREFIX):]: value for key, value in environ.items()
            if key.startswith(ENV_PREFIX) and key != ENV_PREFIX + "FAILPOINT"}


def _pop_option(argv: list[str], name: str, takes_value: bool) -> tuple[list[str], str | bool | None]:
    out, value, i = [], None, 0
    while i < len(argv):
        arg = argv[i]
        if arg == name:
            if takes_value:
                if i + 1 >= len(argv):
                    raise SystemExit(f"linkprospector: error: {name} needs a value")
                value, i = argv[i + 1], i + 2
                continue
            value, i = True, i + 1
            continue
        if takes_value and arg.startswith(name + "="):
            value = arg.split("=", 1)[1]
        else:
            out.append(arg)
        i += 1
    return out, value


def _one_line_usage_errors() -> None:
    """Scrapy prints its usage banner before a usage error; a user needs the error, on one line."""
    import scrapy.cmdline
    from scrapy.exceptions import UsageError

    def run(parser, func, *args, **kwargs):
        try:
            func(*args, **kwargs)
        except UsageError as exc:
            if str(exc):
                print(f"{parser.usage.split()[1] if parser.usage else 'linkprospector'}: error: {exc}", file=sys.stderr)
            elif exc.print_help:
                parser.print_help()
            sys.exit(2)

    scrapy.cmdline._run_print_help = run  # Scrapy 2.19 (crawler/compat.py checks the version)


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    argv, debug = _pop_option(argv, "--debug", False)
    argv, config = _pop_option(argv, "--config", True)
    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "crawler.settings")
    try:
        from scrapy.cmdline import execute
        from scrapy.utils.project import get_project_settings

        settings = get_project_settings()
        path = config or (CONFIG_NAME if Path(CONFIG_NAME).is_file() else None)
        if path:
            settings.setdict(load_config(path), priority="project")
        settings.setdict(env_settings(), priority="project")
        _one_line_usage_errors()
        execute(["linkprospector", *argv], settings)
    except SystemExit:
        raise
    except Exception as exc:
        if debug:
            raise
        where = f" ({config})" if config and isinstance(exc, (OSError, ValueError)) else ""
        print(f"linkprospector: error{where}: {type(exc).__name__}: {exc} (--debug shows the traceback)",
              file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
