"""History: read models over the recorded deploys, for ``show``, ``listen``, the timeline and
the dashboard."""
