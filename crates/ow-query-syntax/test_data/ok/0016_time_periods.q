stats count(*) by bin(300ms), bin(30s), bin(5m), bin(1h), bin(1d), bin(1w), bin(1mo), bin(1q), bin(1y), bin(2hrs), bin(10mins)
