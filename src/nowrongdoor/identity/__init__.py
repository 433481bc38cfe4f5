"""One youth across agencies (PRODUCT.md E2-E3): record linkage and its privacy-preserving
encodings."""
