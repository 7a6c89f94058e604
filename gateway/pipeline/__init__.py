"""The order of the stages a stored message goes through, and the processor that runs them."""
