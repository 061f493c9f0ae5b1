"""Publish-subscribe (XEP-0060): what PEP and the pubsub service share (errors, node
configuration, subscriptions and affiliations)."""
