"""day_trade: the trading system's namespace. This distribution ships `day_trade.observability`."""
