"""The shared torch core: tensors in, tensors or result objects out. Never imports networkx."""
