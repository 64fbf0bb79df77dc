"""Reference models: complete trainable models, independent of the bench harness."""
