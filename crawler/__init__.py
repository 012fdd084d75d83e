from crawler.compat import check_scrapy

check_scrapy()
