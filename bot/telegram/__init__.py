"""Telegram plumbing: the update processor that keeps each chat's updates in order, the
rate limiter that waits out a 429 for one reply, the pacing that keeps bulk sending
within Telegram's limits, and PTB's persistence kept in our database — as opposed to the
pure rules in bot/ (money, earning, tiers, offers) and the services in bot/services/.
"""
