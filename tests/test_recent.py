"""The spider's bounded memory of URLs it already requested: it may only skip what the dupefilter would drop."""

from crawler.recent import RecentUrls


def test_a_url_is_new_once_then_seen():
    recent = RecentUrls(10)
    assert recent.seen("page http://a.com/") is False
    assert recent.seen("page http://a.com/") is True
    assert recent.seen("check http://a.com/") is False  # a check and a page of one URL are different requests


def test_memory_is_bounded_and_forgets_the_least_recently_seen():
    recent = RecentUrls(2)
    recent.seen("a")
    recent.seen("b")
    recent.seen("a")  # "a" is now the most recent
    recent.seen("c")  # evicts "b"
    assert len(recent) == 2
    assert recent.seen("a") is True
    assert recent.seen("b") is False  # forgotten: goes to the scheduler, whose dupefilter decides
