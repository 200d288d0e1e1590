"""Ranking: the time-decayed trending score shared by the feed, the API and the digests."""
