"""Notifications: the manifest's webhooks told when a deploy starts and ends."""
