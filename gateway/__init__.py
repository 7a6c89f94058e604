"""The deciding core: settings, the pipeline that turns a stored message into ticket changes, and the service."""
