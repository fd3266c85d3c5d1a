fields 42, 2.5, 1e-3, 0x1F, -3
