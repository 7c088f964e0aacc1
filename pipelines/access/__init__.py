"""Spatial accessibility to GPs: an APL-like two-step floating catchment area (2SFCA).

`catchment` holds the pure, vectorised method (distances, travel times, decay bands, the two
steps); `assets` is the night's asset that feeds it from the warehouse.
"""
