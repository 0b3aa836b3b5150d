"""OGC API URLs under /ogc/ (every view passes the access gate in ogc_api.views)."""

from django.urls import path, re_path

from ogc_api import views

app_name = "ogc_api"
COLLECTION = "collections/<str:collection_id>"
#: The tile route comes first: a map view asks for dozens of tiles for every other request,
#: and Django tries the patterns in order (none of them overlap).
urlpatterns = [
    path(f"{COLLECTION}/tiles/WebMercatorQuad/<int:z>/<int:y>/<int:x>", views.tile,
         name="tile"),
    path("", views.landing_page, name="landing"),
    path("openapi", views.openapi_document, name="openapi"),
    path("openapi/redoc.standalone.js", views.redoc_bundle, name="redoc_bundle"),
    path("conformance", views.conformance_page, name="conformance"),
    path("collections", views.collections, name="collections"),
    path(COLLECTION, views.collection, name="collection"),
    path(f"{COLLECTION}/queryables", views.queryables, name="queryables"),
    path(f"{COLLECTION}/schema", views.schema, name="schema"),
    path(f"{COLLECTION}/schema.xsd", views.gml_schema, name="gml_schema"),
    path(f"{COLLECTION}/sortables", views.sortables, name="sortables"),
    path(f"{COLLECTION}/items", views.items, name="items"),
    path(f"{COLLECTION}/items/<str:item_id>", views.item, name="item"),
    path(f"{COLLECTION}/tiles", views.tilesets, name="tilesets"),
    path(f"{COLLECTION}/tiles/WebMercatorQuad", views.tileset, name="tileset"),
    path("TileMatrixSets", views.tile_matrix_sets, name="tilematrixsets"),
    path("TileMatrixSets/<str:tms>", views.tile_matrix_sets, name="tilematrixset"),
    re_path(r"^static/(?P<path>[A-Za-z0-9_./-]+)$", views.static, name="static"),
]
