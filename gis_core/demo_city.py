"""A deterministic demo city inside a municipality boundary (pure numpy / shapely 2).

:func:`build_city` draws, from a fixed seed and the boundary alone, what the
departments of a Turkish town keep: a street network (``yol``) on a gently
warped grid with a boulevard cross, avenues every few blocks and named or
numbered streets between them; blocks between the streets, with building
footprints (``bina``) along their sides, civic, industrial and park blocks; one
address point (``numarataj``) at the street-side entrance of every building,
numbered odd and even along its street; parks, playgrounds, road medians, a
cemetery and peri-urban woods (``yesil_alan``); lighting poles along every
street (``aydinlatma``); and neighbourhood polygons (Voronoi cells of seeded
points, clipped to the boundary) named with the official names given.

Nothing here touches the database: the result is one GeoDataFrame per layer,
with the layer's field names, in the storage CRS, ready to be written to a
GeoPackage and sent through the ETL like a department's upload
(``gis_core.demo``). Geometry is built with vectorised shapely 2 and numpy
calls over all features at once; Python loops run only over a few dozen
streets, roads or civic blocks.

>>> import shapely
>>> city = build_city(shapely.Point(0, 0).buffer(8000), ["Emek", "Huzur", "Orta"],
...                   srid=5254, service_buildings=[("Belediye", 5, "Kamu Hizmet")])
>>> len(city.layers["bina"]) > 5000
True
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

SEED = 5393  # the number of the Municipal Law (as the core demo)

#: Distance between street centre lines: along the grid's x axis (a block's length)
#: and along its y axis (a block's depth), metres.
SPACING_X = 115.0
SPACING_Y = 80.0
#: Mean radius of the built-up area, metres.
CITY_RADIUS = 1450.0
#: Half the carriageway (kerb to centre line) by street type, metres; a pavement follows.
HALF_WIDTH = {"Bulvar": 15.0, "Cadde": 9.0, "Sokak": 5.5, "Yol": 6.0}
PAVEMENT = 2.5
#: Every how many grid lines an avenue (Cadde) runs, along x and along y.
CADDE_EVERY = (5, 4)

BULVAR_NAMES = ["Atatürk", "Cumhuriyet"]
CADDE_NAMES = [
    "İstiklal", "İnönü", "Gazi", "Fevzi Çakmak", "Hürriyet", "Zafer", "Sakarya", "Vatan",
    "Millet", "Ziya Gökalp", "Mimar Sinan", "Yunus Emre", "Kazım Karabekir", "Kıbrıs Şehitleri",
    "Mareşal Çakmak", "Necip Fazıl", "Mehmet Akif Ersoy", "Şehit Er Hasan Yılmaz", "Hacı Bayram",
    "Kurtuluş", "Barış", "Eski Bağlar", "Yeşiltepe", "Orhangazi",
]
SOKAK_NAMES = [
    "Lale", "Menekşe", "Gül", "Papatya", "Nergis", "Sümbül", "Karanfil", "Zambak", "Akasya",
    "Çınar", "Ihlamur", "Söğüt", "Kavak", "Meşe", "Çam", "Ardıç", "Defne", "Leylak", "Manolya",
    "Nilüfer", "Begonya", "Orkide", "Sedef", "Mercan", "İnci", "Yakut", "Zümrüt", "Firuze",
    "Kardelen", "Yasemin", "Fesleğen", "Kekik", "Badem", "Ceviz", "Kiraz", "Vişne", "Erik",
    "Şeftali", "Ayva", "Nar", "İncir", "Zeytin", "Üzüm", "Dut", "Kestane", "Fındık", "Başak",
    "Gelincik", "Çiğdem", "Sardunya", "Hanımeli", "Mimoza", "Ortanca", "Şebboy", "Hercai",
    "Lavanta", "Kamelya", "Ladin", "Servi", "Sedir", "Gürgen", "Kayın", "Kızılcık", "Ahlat",
    "Armut", "Elma", "Portakal", "Limon", "Mandalina", "Turunç", "Ayçiçeği", "Nane", "Reyhan",
    "Gonca", "Filiz", "Fidan", "Pınar", "Irmak", "Dere", "Göl", "Deniz", "Bulut", "Yıldız",
    "Ay", "Güneş", "Şafak", "Seher", "Tan", "Akşam", "Bahar", "Yaz", "Güz", "Kış", "Poyraz",
    "Lodos", "Meltem", "Kartal", "Şahin", "Doğan", "Atmaca", "Turna", "Leylek", "Kumru",
    "Serçe", "Bülbül", "Güvercin", "Kırlangıç", "Keklik", "Sülün", "Ceylan", "Geyik", "Ahu",
    "Çağlayan", "Yayla", "Tepe", "Yamaç", "Bayır", "Vadi", "Ova", "Çayır", "Bağ", "Bostan",
    "Harman", "Değirmen", "Çeşme", "Hamam", "Han", "Kervan", "Köprü", "Kale", "Sur", "Kemer",
]
#: Roads leaving the town at the four ends of the boulevards (type ``Yol``).
ROAD_NAMES = ["Organize Sanayi", "Havalimanı", "Baraj", "Üniversite"]

#: Building use mixes by zone (core, middle, edge): code -> weight.
USE_MIX = (
    {"Konut + Ticaret": 45, "Ticaret": 20, "Konut": 30, "Sağlık": 2, "Diğer": 3},
    {"Konut": 78, "Konut + Ticaret": 14, "Ticaret": 4, "Depo": 2, "Diğer": 2},
    {"Konut": 85, "Depo": 5, "Tarımsal": 5, "Konut + Ticaret": 3, "Diğer": 2},
)
#: Per zone: frontage pitch, depth, setback (front garden), floors (low, high), years.
ZONES: tuple[dict[str, Any], ...] = (
    {"pitch": (17.0, 21.0), "depth": (13.0, 17.0), "setback": 1.0, "floors": (4, 10),
     "years": (1968, 2000)},
    {"pitch": (15.0, 19.0), "depth": (10.0, 13.0), "setback": 3.0, "floors": (3, 6),
     "years": (1985, 2015)},
    {"pitch": (18.0, 25.0), "depth": (9.0, 12.0), "setback": 4.0, "floors": (1, 3),
     "years": (1995, 2025)},
)
GAP = 2.0  # between neighbouring buildings along a street, metres

#: Civic buildings other than the municipality's own: (name pattern, use, floors, share).
CIVIC: list[tuple[str, str, int, float]] = [
    ("{m} İlkokulu", "Eğitim", 3, 0.022),
    ("{m} Ortaokulu", "Eğitim", 3, 0.012),
    ("{m} Aile Sağlığı Merkezi", "Sağlık", 2, 0.010),
    ("{m} Camii", "Dini Tesis", 1, 0.012),
]

#: (lamp type, power W, pole type, height m, fittings, spacing m, sides) by street type.
LIGHTING = {
    "Bulvar": ("LED", 150, "Dekoratif", 10.0, 2, 40.0, 0),
    "Cadde": ("LED", 100, "Çelik", 9.0, 1, 35.0, 2),
    "Sokak": ("Sodyum", 70, "Beton", 7.0, 1, 40.0, 1),
    "Yol": ("Sodyum", 150, "Çelik", 10.0, 1, 50.0, 1),
}

#: Postal code prefixes (the province's traffic code) for the profiles' provinces.
POSTAL_PREFIX = {"Eskişehir": "26", "Aydın": "09"}


@dataclass(frozen=True)
class ServiceSite:
    """A municipal service building placed in the city: its footprint and address."""

    name: str
    footprint: shapely.Polygon
    uavt_code: str
    neighbourhood: str
    street: str  # as written in an address: "Atatürk Bulvarı"
    door_number: str
    #: The footprint's frame: origin (a corner), unit along its length, unit across it,
    #: and its length and depth (metres), for drawing a floor plan.
    origin: tuple[float, float]
    along: tuple[float, float]
    across: tuple[float, float]
    length: float
    depth: float


@dataclass
class City:
    """What :func:`build_city` returns: one GeoDataFrame per layer and the service sites."""

    layers: dict[str, gpd.GeoDataFrame]
    neighbourhoods: gpd.GeoDataFrame  # name, geometry (MultiPolygon)
    service_sites: list[ServiceSite]
    #: Two uploads with a department's usual mistakes: ``{layer: frame}`` (see _mistakes).
    mistakes: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)


def street_label(name: str, kind: str) -> str:
    """A street's name as written in an address.

    >>> street_label("Atatürk", "Bulvar"), street_label("Lale", "Sokak")
    ('Atatürk Bulvarı', 'Lale Sokak')
    """
    suffix = {"Bulvar": "Bulvarı", "Cadde": "Caddesi", "Yol": "Yolu"}.get(kind, kind)
    return f"{name} {suffix}"


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def _left(v: np.ndarray) -> np.ndarray:
    """``v`` turned 90 degrees anticlockwise (the inside of an anticlockwise ring)."""
    return np.stack([-v[..., 1], v[..., 0]], axis=-1)


def _cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0]


def _rects(origin: np.ndarray, u: np.ndarray, n: np.ndarray, u0: np.ndarray, u1: np.ndarray,
           v0: np.ndarray, v1: np.ndarray) -> np.ndarray:
    """Rectangles ``[u0, u1] x [v0, v1]`` in the frames ``(origin, u, n)``: shapely polygons."""
    corners = np.stack([
        origin + u * u0[:, None] + n * v0[:, None],
        origin + u * u1[:, None] + n * v0[:, None],
        origin + u * u1[:, None] + n * v1[:, None],
        origin + u * u0[:, None] + n * v1[:, None],
        origin + u * u0[:, None] + n * v0[:, None],
    ], axis=1)
    return shapely.polygons(corners)


def _pick(rng: np.random.Generator, mix: dict[str, int], size: int) -> np.ndarray:
    keys = np.array(list(mix), dtype=object)
    weights = np.array(list(mix.values()), dtype=float)
    return keys[rng.choice(len(keys), size=size, p=weights / weights.sum())]


def _unique_codes(rng: np.random.Generator, size: int) -> np.ndarray:
    """``size`` distinct 10-digit codes (UAVT style), as strings."""
    codes = np.unique(rng.integers(1_000_000_000, 9_999_999_999, size=size + size // 10 + 10))
    codes = rng.permutation(codes)[:size]
    if len(codes) < size:  # practically never (a birthday clash in 9e9)
        raise ValueError("too few distinct codes drawn")
    return codes.astype(str)


def _within_names(points: np.ndarray, cells: np.ndarray, names: np.ndarray) -> np.ndarray:
    """The name of the cell holding each point (the first one on a shared edge)."""
    tree = shapely.STRtree(cells)
    point_idx, cell_idx = tree.query(points, predicate="intersects")
    first = np.unique(point_idx, return_index=True)[1]
    out = np.full(len(points), None, dtype=object)
    out[point_idx[first]] = names[cell_idx[first]]
    if (missing := np.flatnonzero(pd.isna(out))).size:
        nearest = tree.nearest(points[missing])
        out[missing] = names[nearest]
    return out


def _spread(candidates: np.ndarray, wanted: int, min_distance: float,
            taken: np.ndarray) -> np.ndarray:
    """Up to ``wanted`` of ``candidates`` (in order), each ``min_distance`` from the others."""
    chosen = list(taken)
    start = len(chosen)
    for point in candidates:
        if len(chosen) - start >= wanted:
            break
        if not chosen or np.min(np.hypot(*(np.asarray(chosen) - point).T)) >= min_distance:
            chosen.append(point)
    return np.asarray(chosen[start:], dtype=float).reshape(-1, 2)


def _neighbourhoods(rng: np.random.Generator, boundary: shapely.Geometry, centre: np.ndarray,
                    names: list[str]) -> gpd.GeoDataFrame:
    """Voronoi cells of seeded points, clipped to the boundary: three in four in the town."""
    inner = shapely.buffer(boundary, -200)
    minx, miny, maxx, maxy = boundary.bounds
    near = max(1, round(len(names) * 0.75))
    town = rng.normal(centre, CITY_RADIUS * 0.7, size=(near * 40, 2))
    town = town[shapely.contains_xy(inner, town[:, 0], town[:, 1])]
    country = rng.uniform((minx, miny), (maxx, maxy), size=(len(names) * 40, 2))
    country = country[shapely.contains_xy(inner, country[:, 0], country[:, 1])
                      & (np.hypot(*(country - centre).T) > CITY_RADIUS * 1.3)]
    seeds = _spread(town, near, CITY_RADIUS / np.sqrt(near), np.empty((0, 2)))
    seeds = np.concatenate([seeds, _spread(country, len(names) - len(seeds), 1200.0, seeds)])
    if len(seeds) < len(names):  # a narrow boundary: fill in with any point inside
        rest = _spread(np.concatenate([town, country]), len(names) - len(seeds), 50.0, seeds)
        seeds = np.concatenate([seeds, rest])
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(seeds),
                                                       extend_to=boundary, ordered=True))
    clipped = shapely.intersection(cells, boundary)
    parts = [shapely.get_parts(g) for g in clipped]
    polys = [shapely.multipolygons(p[shapely.get_type_id(p) == 3]) for p in parts]
    order = rng.permutation(len(names))
    return gpd.GeoDataFrame({"name": np.array(names, dtype=object)[order]},
                            geometry=np.array(polys, dtype=object))


def build_city(boundary: shapely.Geometry, names: list[str], *, srid: int,
               service_buildings: list[tuple[str, int, str]], province: str = "",
               neighbourhoods: gpd.GeoDataFrame | None = None, seed: int = SEED) -> City:
    """Draw the demo city inside ``boundary`` (storage CRS, metres).

    Parameters
    ----------
    boundary : shapely geometry
        The municipality's boundary in the storage CRS (a metric TM zone).
    names : list of str
        Official neighbourhood names; each gets one Voronoi cell.
    neighbourhoods : GeoDataFrame, optional
        Neighbourhoods already stored (``name``, polygons): used instead of drawing cells.
    srid : int
        EPSG code of the storage CRS (the frames' CRS).
    service_buildings : list of (name, floors, use)
        The municipality's own buildings, placed on civic blocks, the first at the centre.
    province : str
        Province name, for postal codes (none when unknown).
    seed : int
        Random seed; the same seed and boundary give the same city.
    """
    rng = np.random.default_rng(seed)
    boundary = shapely.make_valid(boundary)
    centre_point = shapely.centroid(boundary)
    if not shapely.contains(boundary, centre_point):
        centre_point = shapely.point_on_surface(boundary)
    centre = np.array([centre_point.x, centre_point.y])
    hoods = _neighbourhoods(rng, boundary, centre, names)  # drawn anyway: same random stream
    if neighbourhoods is not None and len(neighbourhoods):
        hoods = gpd.GeoDataFrame({"name": neighbourhoods["name"].to_numpy()},
                                 geometry=neighbourhoods.geometry.to_numpy())
    hood_geoms = hoods.geometry.to_numpy()
    hood_names = hoods["name"].to_numpy()

    # --- the grid: nodes (i, j) warped, jittered, rotated about the centre -------------------
    angle = rng.uniform(np.radians(10), np.radians(35))
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    ni = int(np.ceil(CITY_RADIUS * 1.4 / SPACING_X))
    nj = int(np.ceil(CITY_RADIUS * 1.4 / SPACING_Y))
    ii, jj = np.meshgrid(np.arange(-ni, ni + 1), np.arange(-nj, nj + 1), indexing="ij")
    local = np.stack([ii * SPACING_X, jj * SPACING_Y], axis=-1).astype(float)
    phase = rng.uniform(0, 2 * np.pi, size=2)
    local[..., 0] += 22 * np.sin(local[..., 1] / 420 + phase[0])
    local[..., 1] += 16 * np.sin(local[..., 0] / 510 + phase[1])
    local += np.clip(rng.normal(0, 3.0, size=local.shape), -7, 7)
    nodes = local @ rot.T + centre  # (2ni+1, 2nj+1, 2)
    axis_x, axis_y = rot[:, 0], rot[:, 1]  # the grid's x and y directions in the map

    # --- blocks inside the town's outline and well inside the boundary ------------------------
    block_i, block_j = np.meshgrid(np.arange(-ni, ni), np.arange(-nj, nj), indexing="ij")
    bi, bj = block_i.ravel(), block_j.ravel()
    gi, gj = bi + ni, bj + nj  # array indices of the block's lower-left node
    quad = np.stack([nodes[gi, gj], nodes[gi + 1, gj], nodes[gi + 1, gj + 1],
                     nodes[gi, gj + 1]], axis=1)  # anticlockwise (the rotation keeps it so)
    mid = quad.mean(axis=1)
    rel = mid - centre
    theta = np.arctan2(rel[:, 1], rel[:, 0])
    shape_phase = rng.uniform(0, 2 * np.pi, size=2)
    reach = CITY_RADIUS * (1 + 0.18 * np.sin(2 * theta + shape_phase[0])
                           + 0.10 * np.sin(3 * theta + shape_phase[1]))
    radius = np.hypot(rel[:, 0], rel[:, 1])
    town = radius < reach
    safe = shapely.buffer(boundary, -150)
    town &= shapely.contains_xy(safe, mid[:, 0], mid[:, 1])
    town &= shapely.contains(safe, shapely.polygons(np.concatenate([quad, quad[:, :1]], 1)))
    keep = np.flatnonzero(town)
    bi, bj, gi, gj, quad, mid = bi[keep], bj[keep], gi[keep], gj[keep], quad[keep], mid[keep]
    ring = radius[keep] / reach[keep]  # 0 at the centre, 1 at the town's edge
    nb = len(keep)

    # --- streets: grid lines, one name per line (avenues) or per stretch (streets) ------------
    def line_kind(index: np.ndarray, every: int) -> np.ndarray:
        return np.where(index == 0, "Bulvar", np.where(index % every == 0, "Cadde", "Sokak"))

    # Edges: horizontal (i, j)-(i+1, j) on row j; vertical (i, j)-(i, j+1) on column i.
    # Each block side is one edge: 0 bottom (row j), 1 right (column i+1), 2 top (row j+1),
    # 3 left (column i).
    side_edges = np.stack([
        np.stack([np.zeros(nb, int), bi, bj], 1),
        np.stack([np.ones(nb, int), bi + 1, bj], 1),
        np.stack([np.zeros(nb, int), bi, bj + 1], 1),
        np.stack([np.ones(nb, int), bi, bj], 1),
    ], axis=1)  # (nb, 4, [orientation, i, j])
    edges, side_edge = np.unique(side_edges.reshape(-1, 3), axis=0, return_inverse=True)
    side_edge = side_edge.reshape(nb, 4)
    e_or, e_i, e_j = edges[:, 0], edges[:, 1], edges[:, 2]
    horizontal = e_or == 0
    e_kind = np.where(horizontal, line_kind(e_j, CADDE_EVERY[1]), line_kind(e_i, CADDE_EVERY[0]))
    # A street: the whole line for a boulevard or avenue, the stretch between two avenues
    # for a street.
    line_no = np.where(horizontal, e_j, e_i)
    along = np.where(horizontal, e_i, e_j)
    stretch = np.where(e_kind == "Sokak",
                       np.floor_divide(along, np.where(horizontal, CADDE_EVERY[0],
                                                       CADDE_EVERY[1])), 0)
    street_keys, e_street = np.unique(np.stack([e_or, line_no, stretch], 1), axis=0,
                                      return_inverse=True)
    s_kind = np.empty(len(street_keys), dtype=object)
    s_kind[e_street] = e_kind
    s_name = np.empty(len(street_keys), dtype=object)
    pools = {"Bulvar": list(BULVAR_NAMES), "Cadde": list(CADDE_NAMES),
             "Sokak": list(rng.permutation(SOKAK_NAMES))}
    rng.shuffle(pools["Cadde"])
    used = {"Bulvar": 0, "Cadde": 0, "Sokak": 0}
    for index in np.argsort(np.abs(street_keys[:, 1]) * 100 + np.abs(street_keys[:, 2]),
                            kind="stable"):
        street_type = str(s_kind[index])
        pool = pools[street_type]
        k = used[street_type]
        used[street_type] += 1
        # Beyond the names: numbered streets (as many towns number theirs).
        s_name[index] = pool[k] if k < len(pool) else f"{1000 + 10 * k + int(index % 10)}"
    e_a = nodes[e_i + ni, e_j + nj]
    e_b = np.where(horizontal[:, None], nodes[np.minimum(e_i + 1 + ni, 2 * ni), e_j + nj],
                   nodes[e_i + ni, np.minimum(e_j + 1 + nj, 2 * nj)])
    e_half = np.vectorize(HALF_WIDTH.get, otypes=[float])(e_kind)

    # --- block insets: each side moved in by its street's half width and the pavement -------
    p = quad
    e = np.roll(p, -1, axis=1) - p
    n = _unit(_left(e))
    d = e_half[side_edge] + PAVEMENT
    a = p + n * d[..., None]
    a_prev, e_prev = np.roll(a, 1, axis=1), np.roll(e, 1, axis=1)
    s = _cross(a - a_prev, e) / _cross(e_prev, e)
    inset = a_prev + e_prev * s[..., None]  # (nb, 4, 2) corner k between sides k-1 and k
    block_polys = shapely.polygons(np.concatenate([inset, inset[:, :1]], axis=1))

    # --- block kinds ---------------------------------------------------------------------------
    kind = np.full(nb, "housing", dtype=object)
    order = np.argsort(np.hypot(*(mid - centre).T))
    civic_blocks: list[int] = [int(order[0])]  # the town hall at the centre
    candidates = rng.permutation(np.flatnonzero((ring > 0.12) & (ring < 0.85)))
    for index in candidates:
        if len(civic_blocks) >= len(service_buildings):
            break
        if np.min(np.hypot(*(mid[civic_blocks] - mid[index]).T)) > 350:
            civic_blocks.append(int(index))
    if len(civic_blocks) < len(service_buildings):
        raise ValueError("the town has too few blocks for the service buildings")
    kind[civic_blocks] = "service"
    free = np.flatnonzero(kind == "housing")
    industry_angle = rng.uniform(-np.pi, np.pi)
    block_theta = np.arctan2(*(mid - centre).T[::-1])
    sector = np.abs((block_theta - industry_angle + np.pi) % (2 * np.pi) - np.pi) < 0.45
    kind[free[(ring[free] > 0.62) & sector[free]]] = "industry"
    free = np.flatnonzero(kind == "housing")
    parks = rng.choice(free, size=max(24, round(nb * 0.06)), replace=False)
    kind[parks] = "park"
    free = np.flatnonzero((kind == "housing") & (ring > 0.75))
    kind[rng.choice(free, size=1)] = "cemetery"
    other_civic: list[tuple[int, str, str, int]] = []
    for pattern, civic_use, civic_floors, share in CIVIC:
        free = np.flatnonzero((kind == "housing") & (ring < 0.9))
        for index in rng.choice(free, size=max(2, round(nb * share)), replace=False):
            kind[index] = "civic"
            other_civic.append((int(index), pattern, civic_use, civic_floors))

    # Each block's own frame: origin at inset corner 0, u along side 0, n inwards.
    b_u = _unit(inset[:, 1] - inset[:, 0])
    b_n = _left(b_u)
    b_len = np.einsum("ij,ij->i", inset[:, 1] - inset[:, 0], b_u)
    b_depth = np.minimum(np.einsum("ij,ij->i", inset[:, 2] - inset[:, 0], b_n),
                         np.einsum("ij,ij->i", inset[:, 3] - inset[:, 0], b_n))

    # --- houses along the sides of the housing blocks (all sides at once) ----------------------
    zone = np.digitize(ring, [0.38, 0.75])  # 0 core, 1 middle, 2 edge
    pitch_lo = np.array([z["pitch"][0] for z in ZONES])[zone]
    pitch_hi = np.array([z["pitch"][1] for z in ZONES])[zone]
    depth_hi = np.array([z["depth"][1] for z in ZONES])[zone]
    setback = np.array([z["setback"] for z in ZONES])[zone]
    block_pitch = rng.uniform(pitch_lo, pitch_hi)
    housing = np.flatnonzero(kind == "housing")
    h_block = np.repeat(housing, 4)
    h_side = np.tile(np.arange(4), len(housing))
    start = inset[h_block, h_side]
    end = inset[h_block, (h_side + 1) % 4]
    side_len = np.hypot(*(end - start).T)
    side_u = _unit(end - start)
    side_n = _left(side_u)
    # Long sides (0, 2) run to the corners (corner houses); short sides (1, 3) stop short
    # of the long sides' houses.
    margin = np.where(h_side % 2 == 0, setback[h_block],
                      setback[h_block] + depth_hi[h_block] + GAP + 1.0)
    usable = side_len - 2 * margin
    pitch = block_pitch[h_block]
    count = np.maximum(np.floor(usable / pitch), 0).astype(int)
    side_of = np.repeat(np.arange(len(h_block)), count)
    slot = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
    b_blk = h_block[side_of]
    pad = (usable[side_of] - count[side_of] * pitch[side_of]) / 2
    centre_t = margin[side_of] + pad + pitch[side_of] * (slot + 0.5)
    width = pitch[side_of] - GAP - rng.uniform(0, 1.5, size=len(side_of))
    zlo = np.array([z["depth"][0] for z in ZONES])[zone[b_blk]]
    depth = rng.uniform(zlo, depth_hi[b_blk])
    sb = setback[b_blk]
    houses = _rects(start[side_of], side_u[side_of], side_n[side_of], centre_t - width / 2,
                    centre_t + width / 2, sb, sb + depth)
    h_front = (start[side_of] + side_u[side_of] * centre_t[:, None]
               + side_n[side_of] * (sb - 0.4)[:, None])
    h_edge = side_edge[b_blk, h_side[side_of]]
    h_zone = zone[b_blk]
    floors_lo = np.array([z["floors"][0] for z in ZONES])[h_zone]
    floors_hi = np.array([z["floors"][1] for z in ZONES])[h_zone]
    h_floors = rng.integers(floors_lo, floors_hi + 1)
    h_use = np.empty(len(houses), dtype=object)
    for z, mix in enumerate(USE_MIX):
        where = np.flatnonzero(h_zone == z)
        h_use[where] = _pick(rng, mix, len(where))
    year_lo = np.array([z["years"][0] for z in ZONES])[h_zone]
    year_hi = np.array([z["years"][1] for z in ZONES])[h_zone]
    h_year = rng.integers(year_lo, year_hi + 1)
    h_name = np.full(len(houses), None, dtype=object)
    h_basement = np.where(h_floors >= 5, 1, 0)
    h_service = np.full(len(houses), -1)

    # --- one building per civic / service block, two to four halls per industrial block ------
    def centred(blocks: np.ndarray, length: np.ndarray, deep: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Centred along the front street, 5 m behind it (a forecourt), inside the block."""
        ln = np.minimum(length, b_len[blocks] - 16)
        dp = np.minimum(deep, b_depth[blocks] - 16)
        u0 = (b_len[blocks] - ln) / 2
        v0 = np.minimum(5.0, (b_depth[blocks] - dp) / 2)
        return u0, u0 + ln, v0, v0 + dp

    extra_blocks: list[np.ndarray] = []
    extra_geoms: list[np.ndarray] = []
    extra_front: list[np.ndarray] = []
    extra_floors: list[np.ndarray] = []
    extra_use: list[np.ndarray] = []
    extra_name: list[np.ndarray] = []
    extra_service: list[np.ndarray] = []
    frames: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray, float, float]] = {}

    sv = np.array(civic_blocks)
    sizes = np.array([(62.0, 34.0)] + [(rng.uniform(30, 46), rng.uniform(18, 26))
                                       for _ in civic_blocks[1:]])
    u0, u1, v0, v1 = centred(sv, sizes[:, 0], sizes[:, 1])
    extra_blocks.append(sv)
    extra_geoms.append(_rects(inset[sv, 0], b_u[sv], b_n[sv], u0, u1, v0, v1))
    extra_front.append(inset[sv, 0] + b_u[sv] * ((u0 + u1) / 2)[:, None]
                       + b_n[sv] * (v0 - 0.4)[:, None])
    extra_floors.append(np.array([f for _n, f, _u in service_buildings[:len(sv)]]))
    extra_use.append(np.array([u for _n, _f, u in service_buildings[:len(sv)]], dtype=object))
    extra_name.append(np.array([nm for nm, _f, _u in service_buildings[:len(sv)]], dtype=object))
    extra_service.append(np.arange(len(sv)))
    for k, block in enumerate(sv):
        origin = inset[block, 0] + b_u[block] * u0[k] + b_n[block] * v0[k]
        frames[k] = (origin, b_u[block], b_n[block], float(u1[k] - u0[k]), float(v1[k] - v0[k]))

    if other_civic:
        cb = np.array([c[0] for c in other_civic])
        big = np.array([c[2] != "Dini Tesis" for c in other_civic])
        length = np.where(big, rng.uniform(34, 50, len(cb)), rng.uniform(18, 24, len(cb)))
        deep = np.where(big, rng.uniform(16, 22, len(cb)), length)
        u0, u1, v0, v1 = centred(cb, length, deep)
        extra_blocks.append(cb)
        extra_geoms.append(_rects(inset[cb, 0], b_u[cb], b_n[cb], u0, u1, v0, v1))
        extra_front.append(inset[cb, 0] + b_u[cb] * ((u0 + u1) / 2)[:, None]
                           + b_n[cb] * (v0 - 0.4)[:, None])
        extra_floors.append(np.array([c[3] for c in other_civic]))
        extra_use.append(np.array([c[2] for c in other_civic], dtype=object))
        extra_name.append(np.array([c[1] for c in other_civic], dtype=object))
        extra_service.append(np.full(len(cb), -1))

    ib = np.flatnonzero(kind == "industry")
    if len(ib):
        halves = np.repeat(ib, 2)
        part = np.tile([0, 1], len(ib))
        half = b_len[halves] / 2
        u0 = part * half + 6
        u1 = u0 + half - 12
        v0 = np.full(len(halves), 6.0)
        v1 = b_depth[halves] - 6
        extra_blocks.append(halves)
        extra_geoms.append(_rects(inset[halves, 0], b_u[halves], b_n[halves], u0, u1, v0, v1))
        extra_front.append(inset[halves, 0] + b_u[halves] * ((u0 + u1) / 2)[:, None]
                           + b_n[halves] * (v0 - 0.4)[:, None])
        extra_floors.append(rng.integers(1, 3, len(halves)))
        extra_use.append(_pick(rng, {"Sanayi": 70, "Depo": 30}, len(halves)))
        extra_name.append(np.full(len(halves), None, dtype=object))
        extra_service.append(np.full(len(halves), -1))

    x_block = np.concatenate(extra_blocks)
    x_geoms = np.concatenate(extra_geoms)
    buildings = np.concatenate([houses, x_geoms])
    blk = np.concatenate([b_blk, x_block])
    front = np.concatenate([h_front, *extra_front])
    edge_of = np.concatenate([h_edge, side_edge[x_block, 0]])
    floors = np.concatenate([h_floors, *extra_floors]).astype(int)
    use = np.concatenate([h_use, *extra_use])
    bname = np.concatenate([h_name, *extra_name])
    service = np.concatenate([h_service, *extra_service])
    year = np.concatenate([h_year, rng.integers(1975, 2020, len(x_geoms))])
    basement = np.concatenate([h_basement, np.where(np.concatenate(extra_floors) >= 3, 1, 0)])

    # --- no two footprints may overlap (the bina standard's no_overlap rule) ------------------
    tree = shapely.STRtree(buildings)
    left_i, right_i = tree.query(buildings, predicate="intersects")
    clash = left_i < right_i
    # Drop the later one of each clashing pair, but never a service building.
    drop = np.unique(np.where(service[right_i[clash]] >= 0, left_i[clash], right_i[clash]))
    ok = np.ones(len(buildings), bool)
    ok[drop] = False
    ok &= shapely.contains(block_polys[blk], buildings)
    ok |= service >= 0
    buildings, blk, front, edge_of = buildings[ok], blk[ok], front[ok], edge_of[ok]
    floors, use, bname, service = floors[ok], use[ok], bname[ok], service[ok]
    year, basement = year[ok], basement[ok]
    nbld = len(buildings)

    # --- neighbourhood of everything, names of civic buildings ---------------------------------
    inner_pts = shapely.point_on_surface(buildings)
    b_hood = _within_names(inner_pts, hood_geoms, hood_names)
    fill = np.flatnonzero(np.array([isinstance(x, str) and "{m}" in x for x in bname]))
    bname[fill] = [bname[i].replace("{m}", b_hood[i]) for i in fill]
    # Duplicate names (two schools in one neighbourhood): number them.
    named = pd.Series(bname)
    dup = named.notna() & named.duplicated(keep=False)
    rank = named[dup].groupby(named[dup]).cumcount() + 1
    bname[rank.index.to_numpy()] = [f"{bname[i]} {r}" if r > 1 else bname[i]
                                    for i, r in zip(rank.index, rank, strict=True)]

    codes = _unique_codes(rng, 2 * nbld)
    uavt_bina, uavt_addr = codes[:nbld], codes[nbld:]
    ada = blk + 101
    parsel = pd.Series(blk).groupby(blk).cumcount().to_numpy() + 1
    permit = np.array([f"{y}/{(i * 37) % 900 + 100}" for i, y in enumerate(year)], dtype=object)
    bina = gpd.GeoDataFrame({
        "uavt_bina_kodu": uavt_bina, "bina_adi": bname, "ada_no": ada, "parsel_no": parsel,
        "mahalle_adi": b_hood, "kat_sayisi": floors, "bodrum_kat_sayisi": basement,
        "kullanim": use, "yapim_yili": year, "ruhsat_no": permit,
    }, geometry=shapely.multipolygons(buildings[:, None]), crs=srid)

    # --- address points: numbered along each street, odd on the left, even on the right --------
    st = e_street[edge_of]
    s_axis = np.where(street_keys[st, 0][:, None] == 0, axis_x, axis_y)
    offset = front - centre
    position = np.einsum("ij,ij->i", offset, s_axis)
    side = _cross(s_axis, offset - s_axis * position[:, None]) > 0
    order = np.lexsort((position, side, st))
    rank = np.empty(nbld, int)
    groups = pd.Series(st[order] * 2 + side[order]).groupby(st[order] * 2 + side[order])
    rank[order] = groups.cumcount().to_numpy()
    door = np.where(side, 2 * rank + 1, 2 * rank + 2).astype(str)
    plate = POSTAL_PREFIX.get(province)
    hood_index = {nm: k for k, nm in enumerate(sorted(hood_names))}
    postal = (np.array([f"{plate}{100 + 20 * hood_index[h] % 900:03d}" for h in b_hood],
                       dtype=object) if plate else np.full(nbld, None, dtype=object))
    numarataj = gpd.GeoDataFrame({
        "uavt_kodu": uavt_addr, "mahalle_adi": b_hood, "yol_tipi": s_kind[st],
        "sokak_adi": s_name[st], "kapi_no": door, "giris_tipi": "Ana Giriş",
        "bina_adi": bname, "posta_kodu": postal, "uavt_bina_kodu": uavt_bina,
    }, geometry=shapely.points(front), crs=srid)

    # --- street centre lines, and the roads out of town ---------------------------------------
    used_edges = np.unique(side_edge)
    lines = shapely.linestrings(np.stack([e_a[used_edges], e_b[used_edges]], axis=1))
    seg_street = e_street[used_edges]
    seg_kind = s_kind[seg_street]
    seg_half = e_half[used_edges]
    road_lines: list[shapely.LineString] = []
    road_names: list[str] = []
    gi_used = e_i[used_edges]
    gj_used = e_j[used_edges]
    hz = horizontal[used_edges]
    ends = []
    on_row0 = np.flatnonzero(hz & (gj_used == 0))
    on_col0 = np.flatnonzero(~hz & (gi_used == 0))
    if len(on_row0):
        ends += [(e_a[used_edges][on_row0[np.argmin(gi_used[on_row0])]], -axis_x),
                 (e_b[used_edges][on_row0[np.argmax(gi_used[on_row0])]], axis_x)]
    if len(on_col0):
        ends += [(e_a[used_edges][on_col0[np.argmin(gj_used[on_col0])]], -axis_y),
                 (e_b[used_edges][on_col0[np.argmax(gj_used[on_col0])]], axis_y)]
    keep_in = shapely.buffer(boundary, -300)
    for (point, heading), road in zip(ends, ROAD_NAMES, strict=False):
        pos, head = np.array(point, float), np.array(heading, float)
        for _step in range(80):  # 250 m steps, meandering, until near the boundary
            turn = rng.normal(0, 0.12)
            head = np.array([head[0] * np.cos(turn) - head[1] * np.sin(turn),
                             head[0] * np.sin(turn) + head[1] * np.cos(turn)])
            nxt = pos + head * 250
            if not shapely.contains_xy(keep_in, nxt[0], nxt[1]):
                break
            road_lines.append(shapely.LineString([pos, nxt]))
            road_names.append(road)
            pos = nxt
    n_road = len(road_lines)
    all_lines = np.concatenate([lines, np.array(road_lines, dtype=object)])
    all_kind = np.concatenate([seg_kind, np.full(n_road, "Yol", dtype=object)])
    all_name = np.concatenate([s_name[seg_street], np.array(road_names, dtype=object)])
    all_half = np.concatenate([seg_half, np.full(n_road, HALF_WIDTH["Yol"])])
    road_ids = {nm: len(street_keys) + k for k, nm in enumerate(ROAD_NAMES)}
    all_street = np.concatenate([seg_street, np.array([road_ids[r] for r in road_names], int)])
    seq = pd.Series(all_street).groupby(all_street).cumcount().to_numpy() + 1
    yol_kodu = np.char.add(np.char.zfill((all_street + 1001).astype(str), 5),
                           np.char.zfill(seq.astype(str), 3))
    mids = shapely.line_interpolate_point(all_lines, 0.5, normalized=True)
    surface = np.select([all_kind == "Bulvar", all_kind == "Cadde", all_kind == "Yol"],
                        ["Sıcak Asfalt", "Asfalt", "Asfalt"],
                        default=np.where(rng.random(len(all_lines)) < 0.3, "Parke", "Asfalt"))
    lanes = np.select([all_kind == "Bulvar", all_kind == "Cadde"], [6, 4], default=2)
    one_way = (all_kind == "Sokak") & (all_street % 5 == 2)
    yol = gpd.GeoDataFrame({
        "yol_kodu": yol_kodu, "yol_adi": all_name, "yol_tipi": all_kind,
        "genislik_m": (2 * all_half).round(1), "kaplama_turu": surface, "serit_sayisi": lanes,
        "tek_yon": one_way, "mahalle_adi": _within_names(mids, hood_geoms, hood_names),
    }, geometry=shapely.multilinestrings(all_lines[:, None]), crs=srid)

    # --- lighting poles every few tens of metres along every street ---------------------------
    length = shapely.length(all_lines)
    spec = [LIGHTING[str(k)] for k in all_kind]
    spacing = np.array([s[5] for s in spec])
    sides = np.array([s[6] for s in spec])
    per = np.maximum(np.floor(length / spacing).astype(int), 1)
    pole_line = np.repeat(np.arange(len(all_lines)), per)
    k = np.arange(per.sum()) - np.repeat(np.cumsum(per) - per, per)
    frac = (k + 0.5) / per[pole_line]
    xy = shapely.get_coordinates(all_lines).reshape(-1, 2, 2)
    a0, a1 = xy[pole_line, 0], xy[pole_line, 1]
    direction = _unit(a1 - a0)
    # Avenues: alternate sides; streets and roads: one side; boulevards: on the median.
    lateral = np.where(sides[pole_line] == 0, 0.0,
                       np.where((sides[pole_line] == 2) & (k % 2 == 1), -1.0, 1.0))
    dist = all_half[pole_line] + 0.8  # on the pavement
    pts = a0 + (a1 - a0) * frac[:, None] + _left(direction) * (lateral * dist)[:, None]
    npole = len(pts)
    lamp = np.array([spec[i][0] for i in pole_line], dtype=object)
    led = (rng.random(npole) < 0.45) & (lamp == "Sodyum")
    lamp[led] = "LED"
    power = np.array([spec[i][1] for i in pole_line])
    power = np.where(led, 50, power)
    installed = (np.datetime64("2004-01-01")
                 + rng.integers(0, 365 * 21, npole).astype("timedelta64[D]"))
    aydinlatma = gpd.GeoDataFrame({
        "direk_no": np.char.add("AYD-", np.char.zfill(np.arange(1, npole + 1).astype(str), 6)),
        "lamba_tipi": lamp, "guc_w": power,
        "armatur_sayisi": np.array([spec[i][4] for i in pole_line]),
        "direk_tipi": np.array([spec[i][2] for i in pole_line], dtype=object),
        "direk_yuksekligi_m": np.array([spec[i][3] for i in pole_line]),
        "mahalle_adi": _within_names(shapely.points(pts), hood_geoms, hood_names),
        "kurulum_tarihi": pd.Series(installed).dt.strftime("%Y-%m-%d").to_numpy(),
        "calisir_durumda": rng.random(npole) > 0.04,
    }, geometry=shapely.points(pts), crs=srid)

    # --- green areas: block parks, the cemetery, boulevard medians, woods out of town ---------
    pk = np.flatnonzero((kind == "park") | (kind == "cemetery"))
    park_geoms = shapely.buffer(block_polys[pk], -1.0, join_style="mitre")
    park_kind = np.where(kind[pk] == "cemetery", "Mezarlık",
                         _pick(rng, {"Park": 60, "Çocuk Oyun Alanı": 25, "Spor Alanı": 15},
                               len(pk)))
    bulvar = np.flatnonzero(all_kind == "Bulvar")
    trimmed = shapely.line_interpolate_point(all_lines[bulvar], 14.0), \
        shapely.line_interpolate_point(all_lines[bulvar], -14.0)
    long_enough = length[bulvar] > 45
    medians = shapely.buffer(shapely.linestrings(np.stack([
        shapely.get_coordinates(trimmed[0]), shapely.get_coordinates(trimmed[1])], 1)),
        1.5, cap_style="flat")[long_enough]
    median_names = all_name[bulvar][long_enough]
    hull = shapely.buffer(shapely.convex_hull(shapely.multipolygons(block_polys.tolist())), 150)
    woods: list[shapely.Polygon] = []
    inner = shapely.buffer(boundary, -100)
    for _attempt in range(60):
        if len(woods) >= 4:
            break
        direction_angle = rng.uniform(-np.pi, np.pi)
        dist_out = rng.uniform(1.25, 2.4) * CITY_RADIUS
        cx, cy = centre + dist_out * np.array([np.cos(direction_angle),
                                               np.sin(direction_angle)])
        t = np.linspace(0, 2 * np.pi, 40, endpoint=False)
        size = rng.uniform(180, 420)
        r = size * (1 + 0.25 * np.sin(2 * t + rng.uniform(0, 6)) + 0.12 * np.sin(5 * t))
        poly = shapely.Polygon(np.stack([cx + r * np.cos(t), cy + r * np.sin(t)], 1))
        if (shapely.contains(inner, poly) and not shapely.intersects(hull, poly)
                and not any(shapely.intersects(w, poly) for w in woods)):
            woods.append(poly)
    wood_geoms = np.array(woods, dtype=object)
    green = np.concatenate([park_geoms, medians, wood_geoms])
    green_kind = np.concatenate([park_kind, np.full(len(medians), "Refüj", dtype=object),
                                 np.array(["Kent Ormanı", "Mesire Alanı"] * 2,
                                          dtype=object)[:len(woods)]])
    g_hood = _within_names(shapely.point_on_surface(green), hood_geoms, hood_names)
    g_name = np.empty(len(green), dtype=object)
    title = {"Park": "Parkı", "Çocuk Oyun Alanı": "Çocuk Oyun Alanı", "Spor Alanı": "Spor Alanı",
             "Mezarlık": "Mezarlığı", "Kent Ormanı": "Kent Ormanı", "Mesire Alanı": "Mesire Alanı"}
    for index in range(len(green)):
        if green_kind[index] == "Refüj":
            g_name[index] = f"{median_names[index - len(pk)]} Bulvarı Refüjü"
        else:
            g_name[index] = f"{g_hood[index]} {title[str(green_kind[index])]}"
    names_s = pd.Series(g_name)
    nth = names_s.groupby(names_s).cumcount().to_numpy() + 1
    g_name = np.array([nm if c == 1 else f"{nm} {c}" for nm, c in zip(g_name, nth, strict=True)],
                      dtype=object)
    opened = (np.datetime64("1985-04-23")
              + rng.integers(0, 365 * 39, len(green)).astype("timedelta64[D]"))
    yesil_alan = gpd.GeoDataFrame({
        "yesil_alan_kodu": np.char.add("YA-", np.char.zfill(
            np.arange(1, len(green) + 1).astype(str), 4)),
        "ad": g_name, "tur": green_kind, "mahalle_adi": g_hood,
        "sulama_sistemi": rng.random(len(green)) < 0.55,
        "acilis_tarihi": pd.Series(opened).dt.strftime("%Y-%m-%d").to_numpy(),
    }, geometry=shapely.multipolygons(green[:, None]), crs=srid)

    # --- the municipality's own buildings ------------------------------------------------------
    sites = []
    service_rows = np.flatnonzero(service >= 0)
    for row in service_rows[np.argsort(service[service_rows])]:
        origin, u, nn, ln, dp = frames[int(service[row])]
        sites.append(ServiceSite(
            name=str(bname[row]), footprint=buildings[row], uavt_code=str(uavt_bina[row]),
            neighbourhood=str(b_hood[row]),
            street=street_label(str(s_name[st[row]]), str(s_kind[st[row]])),
            door_number=str(door[row]), origin=(float(origin[0]), float(origin[1])),
            along=(float(u[0]), float(u[1])), across=(float(nn[0]), float(nn[1])),
            length=ln, depth=dp))

    city = City(layers={"bina": bina, "numarataj": numarataj, "yol": yol,
                        "aydinlatma": aydinlatma, "yesil_alan": yesil_alan},
                neighbourhoods=hoods.set_crs(srid), service_sites=sites)
    city.mistakes = _mistakes(rng, city, service, srid)
    return city


def _bowtie(polygon: shapely.Polygon) -> shapely.Polygon:
    """The polygon with two corners swapped: a self-intersecting 'bow tie' (digitising slip)."""
    xy = shapely.get_coordinates(polygon)[:4]
    return shapely.Polygon(xy[[0, 2, 1, 3]])


def _mistakes(rng: np.random.Generator, city: City, service: np.ndarray,
              srid: int) -> dict[str, gpd.GeoDataFrame]:
    """Two uploads as departments send them, with the mistakes they make.

    ``bina``: a re-survey of 40 houses of one neighbourhood (ten of them got a floor
    added) in which three footprints are bow ties (GEOM_INVALID), two uses are not in the
    code list (CODELIST: an old term and a missing space), one neighbourhood is written with
    "Mahallesi" (normalised, a warning), one UAVT code lost a digit (PATTERN) and one house
    has 0 floors (RANGE). ``yol``: new streets of a development plan, drawn in the
    municipality's TM zone but sent with the neighbouring zone as its CRS (CRS_WRONG_ZONE,
    refused whole).
    """
    bina = city.layers["bina"]
    houses = bina[(service[: len(bina)] < 0) & bina["bina_adi"].isna()]
    hood = houses["mahalle_adi"].value_counts().index[0]
    sample = houses[houses["mahalle_adi"] == hood].head(40).copy()
    sample.iloc[:10, sample.columns.get_loc("kat_sayisi")] += 1
    geoms = sample.geometry.to_numpy().copy()
    for row in (12, 21, 33):
        geoms[row] = shapely.multipolygons([_bowtie(shapely.get_parts(geoms[row])[0])])
    sample = sample.set_geometry(geoms)
    use = sample.columns.get_loc("kullanim")
    sample.iloc[14, use] = "Mesken"
    sample.iloc[26, use] = "Konut+Ticaret"
    sample.iloc[17, sample.columns.get_loc("mahalle_adi")] = f"{hood} Mahallesi"
    code = str(sample.iloc[29, sample.columns.get_loc("uavt_bina_kodu")])
    sample.iloc[29, sample.columns.get_loc("uavt_bina_kodu")] = code[:9]
    sample.iloc[37, sample.columns.get_loc("kat_sayisi")] = 0
    yol = city.layers["yol"]
    plan = yol[yol["yol_tipi"] == "Sokak"].tail(25).copy()
    base = 900_000
    plan["yol_kodu"] = [str(base + k) for k in range(len(plan))]
    plan["yol_adi"] = [f"{2001 + k}" for k in range(len(plan))]
    return {"bina": sample.reset_index(drop=True), "yol": plan.reset_index(drop=True)}
