"""The thin Qt layer: model/view grid, delegate, worker bridges, windows and dialogs."""
