"""Broker set-up, thin actors over the pipeline, and the validators."""
