"""OGC API (pygeoapi inside Django), generated from the layer registry."""
