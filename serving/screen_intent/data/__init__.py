"""The screen-intent data: the training generator (build_dataset), its data files, eval sets."""
