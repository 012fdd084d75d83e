"""Settings of the linkprospector Scrapy project.

Every value can be overridden per run with ``-s NAME=VALUE``. The defaults crawl on one machine with no services;
setting ``REDIS_URL`` (here or in the environment) switches the frontier to the shared Redis one (cluster mode,
see ``crawler/frontier/``).
"""

import os

from crawler.cpus import usable_cpus

BOT_NAME = "linkprospector"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"
COMMANDS_MODULE = "crawler.commands"

USER_AGENT = "linkprospector/0.1 (+https://github.com/linkprospector/linkprospector; link checker)"
ROBOTSTXT_OBEY = True  # for the pages we crawl; link checks ask only whether a resource exists (checker.py)
# Scrapy 2.19's robots.txt middleware lets requests that wait for a host's robots.txt through unchecked: ours fixes it
# A link check and a page request of the same URL are different work (crawler/fingerprint.py)
REQUEST_FINGERPRINTER_CLASS = "crawler.fingerprint.KindFingerprinter"
DOWNLOADER_MIDDLEWARES = {
    "crawler.addressguard.AddressGuardMiddleware": 50,  # refused IP literals fail before robots.txt is asked
    "crawler.recrawl.ReuseCheckMiddleware": 60,  # a target checked ok lately is carried, not asked (CHECK_MAX_AGE)
    "crawler.recrawl.ConditionalPageMiddleware": 70,  # a 304 to a conditional page GET: its earlier capture
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "crawler.robotstxt.RobotsTxtMiddleware": 100,
    "crawler.addressguard.BlockedConnectionMiddleware": 600,  # a refused connection is final: before RetryMiddleware
}
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False  # Scrapy 2.19 opens an HTTP control port by default: not on a crawler of other people's sites
LOG_LEVEL = "INFO"
STATS_CLASS = "crawler.stats.StatsCollector"  # Scrapy's, without 2.19's per-access deprecation shim (crawler/stats.py)

# --- politeness and throughput
# Scrapy runs each callback's output through CONCURRENT_ITEMS worker tasks, started whether the callback yields one
# thing or a thousand (scrapy/scrapy#5182): 100 tasks per link check answer cost ~5% of the crawl's CPU here.
CONCURRENT_ITEMS = 8
CONCURRENT_REQUESTS = 64
CONCURRENT_REQUESTS_PER_DOMAIN = 4  # really enforced: crawler/downloader.py
DOWNLOAD_DELAY = 0
DOWNLOAD_DELAY_JITTER = 0  # a delay is a minimum gap between two requests to a host, never 0.5x of it
PARSE_WORKERS = usable_cpus()  # processes turning pages into rows (crawler/parsepool.py); the CPUs this process may use, a container's CPU limit included (crawler/cpus.py); 0 = in the crawl process
# seconds a page (or a check's body) may take in a parse process: past it that process is killed and the task tried
# once more, then the page is recorded as parse_status "parse_timeout" without its links (crawler/parsepool.py)
PARSE_TIMEOUT = 60
MAX_LINKS_PER_PAGE = 20_000  # links kept per page (the rest counted: links/skipped/over_page_limit); 0 = all
ROBOTSTXT_MAX_SIZE = 500 * 1024  # bytes of a robots.txt read and parsed (RFC 9309 §2.5: at least 500 KiB)
ROBOTSTXT_UNREACHABLE_RETRY = 600  # seconds a host stays disallowed after its robots.txt was unreachable (5xx, no answer)
CRAWL_DELAY_MAX = 30  # robots.txt Crawl-delay is honoured up to this many seconds (crawler/politeness.py)
DOWNLOADER = "crawler.downloader.PoliteDownloader"
DOWNLOAD_TIMEOUT = 30
# The TCP connect alone (crawler/connecttimeout.py): a live host completes a handshake in a round trip, a host that
# drops our SYN is known after this many seconds instead of DOWNLOAD_TIMEOUT. 0 = the whole DOWNLOAD_TIMEOUT (stock).
DOWNLOAD_CONNECT_TIMEOUT = 10
DOWNLOAD_HANDLERS = {"http": "crawler.connecttimeout.ConnectTimeoutHandler",
                     "https": "crawler.connecttimeout.ConnectTimeoutHandler"}
DOWNLOAD_MAXSIZE = 10 * 1024 * 1024  # Scrapy's default is 1 GiB; a page bigger than this is not a page
DOWNLOAD_WARNSIZE = 4 * 1024 * 1024
RETRY_TIMES = 2
REDIRECT_MAX_TIMES = 10
# Pages handle HTTP redirects themselves (each hop is a row); a <meta refresh> page is recorded as a page and its
# links followed like any other, so the pages table does not depend on which URL of a page came first.
METAREFRESH_ENABLED = False
DNS_TIMEOUT = 15

# --- names: DNS_OVERRIDES = {"host": "ip"} or "host=ip,host=ip", IPv4 or IPv6, several as "ip|ip" (or a list);
# strict: every other name is NXDOMAIN, no lookup
TWISTED_DNS_RESOLVER = "crawler.dns.OverrideResolver"
DNS_OVERRIDES = {}
DNS_OVERRIDES_STRICT = False
# --- address guard (crawler/netguard.py): no connection to loopback, private (RFC 1918, ULA), link-local (cloud
# metadata), CGNAT, multicast, reserved or unspecified addresses, except names in DNS_OVERRIDES and these networks
ALLOWED_NETWORKS = []  # ["10.1.0.0/16", "127.0.0.5"] or "10.1.0.0/16,127.0.0.5"

# --- breadth-first crawl: requests carry priority -depth; FIFO queues within a priority
SCHEDULER_DISK_QUEUE = "scrapy.squeues.PickleFifoDiskQueue"
SCHEDULER_MEMORY_QUEUE = "scrapy.squeues.FifoMemoryQueue"
SCHEDULER_PRIORITY_QUEUE = "scrapy.pqueues.ScrapyPriorityQueue"

# --- link checks (crawler/checks/checker.py)
CHECK_METHOD = "GET"  # first request of a check: GET reads the start of HTML bodies at once; HEAD, then GET for HTML
CHECK_TIMEOUT = 15
CHECK_CONNECT_TIMEOUT = 5  # seconds for a check's TCP connect (never more than CHECK_TIMEOUT)
CHECK_RETRIES = 2  # extra attempts after a 5xx, a 429 or a resolver error
# extra attempts after a timeout. A timeout has already waited CHECK_TIMEOUT and its verdict is unknown, never
# broken; asking again doubles the wait for a target that rarely answers the second time, and the next scheduled
# crawl asks it again anyway (a host that timed out twice is remembered: CHECK_HOST_FAILURES)
CHECK_TIMEOUT_RETRIES = 0
CHECK_BACKOFF = 1.0
CHECK_RETRY_AFTER_MAX = 60
CHECK_MAX_REDIRECTS = 10
CHECK_MAXSIZE = 4 * 1024 * 1024
# A host whose attempts time out (or are refused) this many times in a row is answered from memory for
# CHECK_HOST_MEMORY seconds: its other targets get the verdict it earned without waiting (crawler/checks/hostmemory.py)
CHECK_HOST_FAILURES = 2  # 0 = wait out every target
CHECK_HOST_MEMORY = 600
# A target checked ok within this many seconds in an earlier crawl of the same lake (OUTPUT_URI) is not asked again:
# its row is carried (reused). 0 = ask every target. Broken and unknown targets are always asked (crawler/recrawl.py).
CHECK_MAX_AGE = 7 * 24 * 3600

# --- output: <OUTPUT_URI>/<table>/crawl=<CRAWL_ID>/part-<WORKER_ID>-<seq>.parquet
OUTPUT_URI = "./data"  # or s3://bucket/prefix (crawler/lake.py)
S3_ENDPOINT_URL = os.environ.get("AWS_ENDPOINT_URL", "")  # an S3-compatible store: http://host:port; empty = AWS
S3_REGION = os.environ.get("AWS_REGION", "")  # empty: AWS_DEFAULT_REGION, else us-east-1
CRAWL_ID = None  # default: the UTC start time, e.g. 20261121-103000Z (crawler/runinfo.py)
WORKER_ID = None  # default: <hostname>-<pid>
PARQUET_ROWS_PER_FILE = 1_000_000
PARQUET_ROW_GROUP_SIZE = 100_000
PARQUET_COMPRESSION = "zstd"
PARQUET_COMMIT_INTERVAL = 30  # seconds between commits of part files: a kill loses at most this much work

ITEM_PIPELINES = {
    "pipelines.placement.PlacementPipeline": 300,
    "pipelines.parquet.ParquetPipeline": 900,
}

# --- link placement (pipelines/placement.py)
PLACEMENT_ENABLED = True
# in_main_content, position, paragraph_index from: "auto" the page's article container, trafilatura's main text on
# pages without one; "article" the container alone; "trafilatura" trafilatura on every page (~+40% placement time,
# docs/placement.md); False none (the columns stay null)
PLACEMENT_MAIN_CONTENT = "auto"
PLACEMENT_MODEL = True  # regions by the learned model over the rules' verdict (docs/placement.md); False: rules alone
LINK_REGION_RULES = []  # per-site overrides, first match wins: [{"xpath"|"class": ..., "region": ..., "site": ...}]
SITEWIDE_MIN_SHARE = 0.5  # a target on at least this share of a site's pages is sitewide (reports)

# --- toxic-link audit of backlinks (crawler/backlinks/risk.py per page; crawler/reports/toxic.py across pages)
TOXIC_MAX_OUTBOUND_LINKS = 100  # more links to other sites on the linking page: many_outbound_links
TOXIC_MAX_LINKED_DOMAINS = 50  # more distinct sites linked from the page: many_linked_domains
TOXIC_MAX_SPONSORED_LINKS = 10  # more rel=sponsored links on the page: many_sponsored_links
TOXIC_LANGUAGES = []  # languages your linking pages should be in ("en,de"); another declared one: language_mismatch
TOXIC_SITEWIDE_MIN_PAGES = 3  # pages of one linking site with your link in its footer/sidebar: sitewide_placement
TOXIC_ANCHOR_MIN_DOMAINS = 3  # linking sites using one commercial anchor for you: commercial_anchor
TOXIC_TEMPLATE_MIN_SITES = 3  # linking sites on one page template: shared_template

# --- progress: pages/s, queue size, checks done and broken found, every PROGRESS_INTERVAL seconds
EXTENSIONS = {
    "scrapy.extensions.logstats.LogStats": None,
    "crawler.progress.CrawlProgress": 500,
    "crawler.warc.archive.WarcArchive": 600,
    "crawler.politeness.CrawlDelay": 700,
    "crawler.shutdown.GracefulShutdown": 800,
    "crawler.addressguard.GuardStats": 900,
}
PROGRESS_INTERVAL = 30

# --- WARC archive of every response: <OUTPUT_URI>/warc/crawl=<CRAWL_ID>/*.warc.gz (crawler/warc/)
WARC_ENABLED = False
WARC_MAX_SIZE = 1_000_000_000  # roll files at 1 GB, like Common Crawl
WARC_ARCHIVE_CHECKS = True  # link-check responses too (Common Crawl's crawldiagnostics)

# --- scrapy recover: a dead resource's last good copy, from our own WARC files, else a web archive's CDX server and
# replay, one request at a time (crawler/reports/recover.py, crawler/wayback.py)
WAYBACK_CDX_URL = "https://web.archive.org/cdx/search/cdx"  # pywb: http://host/<collection>/cdx
WAYBACK_REPLAY_URL = ""  # "" = told from WAYBACK_CDX_URL (https://web.archive.org/web/, http://host/<collection>/)
WAYBACK_TIMEOUT = 20  # seconds for a whole answer
WAYBACK_MAX_BYTES = 2 * 1024 * 1024  # of one answer's body, at most
WAYBACK_DELAY = 1.0  # seconds between two requests to the archive
WAYBACK_RETRY_AFTER_MAX = 60  # a 429/503 is retried once after its Retry-After, when it asks no longer than this
WAYBACK_CDX_ROWS = 10  # captures asked for per URL (the newest ones)
WAYBACK_MAX_FAILURES = 3  # failures in a row after which the archive is not asked again in this run
RECOVER_PARAGRAPHS = 3  # paragraphs of the recovered page's text in the output
RECOVER_SCAN_MAX_BYTES = 2_000_000_000  # of link-check WARC files (crawldiagnostics) read per run to find copies

# --- shutdown: one SIGTERM/SIGINT drains (stop taking work, finish or give back, commit, exit 0); a second one
# exits at once with a non-zero code (crawler/shutdown.py)
DRAIN_TIMEOUT = 20  # seconds the drain waits for requests in flight (Kubernetes' default grace period is 30 s)

# --- cluster mode (crawler/frontier/): set REDIS_URL to share the frontier between workers
ADDONS = {"crawler.frontier.cluster.ClusterAddon": 0}
REDIS_URL = os.environ.get("REDIS_URL") or None
REDIS_PARAMS = {}  # extra redis-py client arguments (password, ssl_ca_certs, socket_timeout...)
MAX_IDLE_TIME_BEFORE_CLOSE = 30  # seconds the whole cluster must have nothing queued or leased before a worker exits
LEASE_TIMEOUT = 120  # seconds after a worker's last heartbeat before its leased requests go to other workers
FRONTIER_MAX_ATTEMPTS = 3  # a request whose processing failed this many times (a crashing callback) is given up
DUPEFILTER_CAPACITY = 10_000_000  # URLs the shared Bloom dupefilter is sized for (24 MB of Redis at 1e-4)
DUPEFILTER_ERROR_RATE = 1e-4  # at capacity, one new URL in 10,000 is taken for seen and skipped
