"""Safe placement (PRODUCT.md B7): placement resources, matching with safety rules,
no-reject-no-eject holds, placement history and absences from placement."""
