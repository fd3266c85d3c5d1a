where status >= 500 and not ispresent(retry)
