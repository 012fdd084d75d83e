"""``scrapy disavow <OUTPUT_URI> --reasons R1,R2 -o disavow.txt [--merge OLD] [--whitelist FILE] [--own-domain D]
[--domains] [--crawl ID]``: Google's disavow file from the toxic-link audit (``crawler/reports/toxic.py``,
``crawler/backlinks/disavow.py``).

Site reasons (``spam_tld``, ``sitewide_placement``, ``shared_template``) become ``domain:`` lines, page reasons URL
lines (``--domains``: every line a ``domain:``). Each line follows ``#`` comments naming its reasons, evidence and
the date. Never written: your own domains (``--own-domain``, and every target domain of the crawl), anything the
whitelist names. ``--merge`` keeps every line of an existing disavow file and adds only what it lacks, because an
upload replaces the previous file. A file over Google's limits (100,000 lines, 2 MB) is refused, not split: a
second upload would replace the first.
"""

from __future__ import annotations

from datetime import date

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from crawler.backlinks.disavow import Candidate, DisavowError, build_disavow, check_limits, read_disavow, write_disavow
from crawler.backlinks.riskwords import REASONS, SITE_REASONS
from crawler.backlinks.targets import parse_target
from crawler.reports.lake import LakeError, as_lake
from crawler.reports.toxic import LakeThresholds, toxic_report
from crawler.urls import host_of, registered_domain


class Command(ScrapyCommand):
    requires_project = True
    default_settings = {"LOG_ENABLED": False}

    def syntax(self) -> str:
        return "<OUTPUT_URI> --reasons R1,R2 -o FILE [--merge OLD] [--whitelist FILE] [--own-domain D] [--domains]"

    def short_desc(self) -> str:
        return "Write Google's disavow file from the toxic-link audit of a backlinks crawl"

    def add_options(self, parser) -> None:
        super().add_options(parser)
        parser.add_argument("--reasons", required=True, help=f"comma-separated reasons to disavow for, or 'all': "
                                                             f"{', '.join(REASONS)}")
        parser.add_argument("-o", "--output", required=True, help="the disavow file to write (plain UTF-8 .txt)")
        parser.add_argument("--merge", help="an existing disavow file: all its lines are kept")
        parser.add_argument("--whitelist", help="domains (example.com, domain:example.com) and URLs never to disavow")
        parser.add_argument("--own-domain", action="append", default=[],
                            help="your own domain(s), never disavowed (repeat or comma-separate)")
        parser.add_argument("--domains", action="store_true", help="disavow whole sites: domain: lines only")
        parser.add_argument("--crawl", help="the backlinks crawl id (default: the latest)")

    def run(self, args: list[str], opts) -> None:
        if len(args) != 1:
            raise UsageError("give the OUTPUT_URI of the backlinks crawl (the folder holding backlinks/)")
        reasons = REASONS if opts.reasons.strip() == "all" else tuple(r.strip() for r in opts.reasons.split(",") if r.strip())
        unknown = [r for r in reasons if r not in REASONS]
        if unknown or not reasons:
            raise UsageError(f"--reasons {opts.reasons}: unknown {', '.join(unknown) or 'empty list'}; "
                             f"reasons are {', '.join(REASONS)} (or all)", print_help=False)
        try:
            merge = read_disavow(opts.merge, "--merge") if opts.merge else None
            whitelist = read_disavow(opts.whitelist, "--whitelist") if opts.whitelist else None
        except DisavowError as exc:
            raise UsageError(str(exc), print_help=False) from None
        try:
            crawl, table = toxic_report(as_lake(args[0], self.settings), opts.crawl,
                                        LakeThresholds.from_settings(self.settings))
        except LakeError as exc:
            raise UsageError(str(exc)) from None
        own = {d.strip().lower() for spec in opts.own_domain for d in spec.split(",") if d.strip()}
        own |= target_domains(table.column("target").to_pylist())
        grouped: dict[tuple[str, str], dict[str, str]] = {}
        for row in table.to_pylist():
            if row["reason"] not in reasons:
                continue
            if opts.domains or row["reason"] in SITE_REASONS:
                key = ("domain", row["source_site"] or host_of(row["source_url"]))
            else:
                key = ("url", row["source_url"])
            grouped.setdefault(key, {}).setdefault(row["reason"], row["evidence"])
        # a page on a site disavowed whole adds its reasons to the domain line's comments
        sites = {value for kind, value in grouped if kind == "domain"}
        for kind, value in [key for key in grouped if key[0] == "url"]:
            site = covering_site(host_of(value), sites)
            if site is not None:
                for reason, evidence in grouped.pop((kind, value)).items():
                    grouped[("domain", site)].setdefault(reason, f"{evidence} ({value})")
        candidates = [Candidate(kind, value, tuple(sorted(found.items()))) for (kind, value), found in grouped.items()]
        today = date.today()
        written = build_disavow(candidates, today=today, merge=merge, keep_out=whitelist, own_domains=own, header=[
            f"disavow file written by linkprospector on {today.isoformat()} from backlinks crawl {crawl}",
            f"reasons: {', '.join(reasons)}",
        ])
        over = check_limits(written.lines)
        if over:
            raise UsageError(f"the disavow file would have {over}: Google reads one file per site and each upload "
                             f"replaces the last, so it is not split; use --domains or fewer --reasons", print_help=False)
        try:
            write_disavow(written.lines, opts.output)
        except OSError as exc:
            raise UsageError(f"cannot write {opts.output}: {exc.strerror or exc}", print_help=False) from None
        for line in written.skipped:
            print(f"left out: {line}")
        kept = f", kept {len(merge.lines)} lines of {opts.merge}" if merge else ""
        print(f"backlinks crawl {crawl}: wrote {opts.output} ({written.domains} domain lines, {written.urls} URL lines"
              f"{kept}, {len(written.skipped)} left out)")


def covering_site(host: str, sites: set[str]) -> str | None:
    parts = host.split(".")
    return next((".".join(parts[i:]) for i in range(len(parts)) if ".".join(parts[i:]) in sites), None)


def target_domains(targets) -> set[str]:
    """The sites your backlinks point to: yours, never to be disavowed."""
    found = set()
    for spec in set(targets):
        try:
            target = parse_target(spec)
        except ValueError:
            continue
        host = target.value if target.kind == "domain" else host_of(target.value)
        if host:
            found.add(registered_domain(host))
    return found
