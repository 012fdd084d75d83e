"""WARC archiving: write every fetched HTTP exchange to rolling WARC files, and read responses back out of WARC
and ARC files (ours or anyone's) so the same extraction runs over both. The Scrapy side lives in
``crawler.warc.archive`` (imported by Scrapy from the EXTENSIONS setting, not here, so plain readers need no Scrapy).
"""

from crawler.warc.reader import (
    ArchivedResponse,
    BodyTooLarge,
    ReadStats,
    UndecodableBody,
    decode_content,
    expand_paths,
    iter_warc_responses,
)
from crawler.warc.writer import RollingWarcWriter, WarcLocation

__all__ = [
    "ArchivedResponse",
    "BodyTooLarge",
    "ReadStats",
    "RollingWarcWriter",
    "UndecodableBody",
    "WarcLocation",
    "decode_content",
    "expand_paths",
    "iter_warc_responses",
]
