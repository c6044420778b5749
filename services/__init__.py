"""The domain: one module per capability. No request objects, no HTML."""
