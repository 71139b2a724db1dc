"""Object assets without a simulator: registry, convex decomposition, cache and the USD file."""

import numpy as np
import pytest
import torch

from intermimic.assets import objects
from intermimic.assets.object_registry import ObjectRegistry
from intermimic.assets.objects import DecompositionCfg, ObjectPhysicsCfg
from intermimic.assets.primitives import DEMO_BOX_HALF_SIZE, DEMO_OBJECT_NAME

pytestmark = pytest.mark.unit

SAMPLE_OBJECTS = ("largetable", "woodchair")


@pytest.fixture(scope="module")
def registry(sample_data):
    return ObjectRegistry(sample_data / "objects")


@pytest.fixture(scope="module")
def sample_assets(registry):
    """The two sample objects built for one scene (shared collider count)."""
    return registry.assets(list(SAMPLE_OBJECTS))


def _open_stage(path):
    from pxr import Usd

    stage = Usd.Stage.Open(str(path))
    assert stage is not None, path
    return stage


# --- registry ------------------------------------------------------------------------------


def test_registry_names_meshes_and_urdf(registry, sample_data, tmp_path):
    assert set(SAMPLE_OBJECTS) | {DEMO_OBJECT_NAME} <= set(registry.names())
    mesh = registry.mesh("largetable")
    assert mesh.source.endswith("largetable.obj")
    np.testing.assert_allclose(mesh.vertices.mean(axis=0), 0.0, atol=1e-6)
    # a folder holding only URDF files resolves the mesh the URDF names
    (tmp_path / "table.urdf").write_text((sample_data / "objects" / "largetable.urdf").read_text())
    (tmp_path / "objects").symlink_to(sample_data / "objects")
    assert ObjectRegistry(tmp_path).mesh_path("table").name == "largetable.obj"
    with pytest.raises(KeyError, match="unknown object 'chair'"):
        registry.mesh_path("chair")


def test_surface_points_are_on_the_mesh_even_and_reproducible(registry):
    import trimesh

    mesh = registry.mesh("woodchair")
    points = registry.surface_points("woodchair")
    assert points.shape == (1024, 3) and points.dtype == torch.float32
    assert torch.equal(points, registry.surface_points("woodchair"))
    tm = trimesh.Trimesh(mesh.vertices, mesh.faces, process=False)
    _, dist, tri = trimesh.proximity.closest_point(tm, points.double().numpy())
    assert dist.max() < 1e-5
    # evenly spread by area: the half of the surface made of the largest triangles gets half the points
    order = np.argsort(-tm.area_faces)
    big = order[: np.searchsorted(np.cumsum(tm.area_faces[order]), 0.5 * tm.area)]
    assert abs(np.isin(tri, big).mean() - 0.5) < 0.06


# --- decomposition -------------------------------------------------------------------------


@pytest.mark.parametrize("name", SAMPLE_OBJECTS)
def test_decomposition_respects_limits_and_wraps_the_mesh(registry, sample_assets, name):
    """At most 64 convex parts of at most 64 vertices; the parts wrap the mesh closely: every
    surface point is inside a part or within 5 mm of one, and no part's vertex is more than
    1.5 cm from the mesh surface."""
    import trimesh
    from scipy.spatial import ConvexHull

    asset = sample_assets[SAMPLE_OBJECTS.index(name)]
    cfg = DecompositionCfg()
    assert 1 <= len(asset.parts) <= cfg.max_hulls
    points = asset.surface_points.double().numpy()
    outside = np.full(len(points), np.inf)
    for part in asset.parts:
        assert len(part.vertices) <= cfg.max_hull_vertices
        hull = ConvexHull(part.vertices)
        assert len(hull.vertices) == len(part.vertices)  # every vertex is a hull vertex: convex
        assert part.volume() == pytest.approx(hull.volume, rel=1e-6)  # faces point outwards
        outside = np.minimum(outside, (points @ hull.equations[:, :3].T + hull.equations[:, 3]).max(axis=1))
    assert outside.max() < 0.005
    mesh = registry.mesh(name)
    verts = np.concatenate([p.vertices for p in asset.parts])
    _, dist, _ = trimesh.proximity.closest_point(trimesh.Trimesh(mesh.vertices, mesh.faces, process=False), verts)
    assert dist.max() < 0.015


def test_decomposition_is_cached_by_content(tmp_path, monkeypatch):
    monkeypatch.setenv("INTERMIMIC_CACHE", str(tmp_path))
    calls = []
    real = objects._run_coacd
    monkeypatch.setattr(objects, "_run_coacd", lambda mesh, cfg: calls.append(cfg) or real(mesh, cfg))
    box = ObjectRegistry().mesh(DEMO_OBJECT_NAME)
    first = objects.decompose(box)
    again = objects.decompose(box)
    assert len(calls) == 1
    assert len(first) == len(again) and all(np.array_equal(a.vertices, b.vertices) for a, b in zip(first, again))
    objects.decompose(box, DecompositionCfg(max_hulls=8))  # other parameters: a new entry
    assert len(calls) == 2
    # the box is convex: one part with its 8 corners and its volume
    assert len(first) == 1 and len(first[0].vertices) == 8
    assert first[0].volume() == pytest.approx(8 * np.prod(DEMO_BOX_HALF_SIZE), rel=1e-6)


# --- physical properties and the USD file --------------------------------------------------


def test_physics_defaults_follow_the_method():
    p = ObjectPhysicsCfg()
    assert (p.density, p.friction, p.restitution, p.rest_offset) == (1000.0, 0.6, 0.05, 0.002)
    assert (p.linear_damping, p.angular_damping) == (0.01, 0.01)
    assert ObjectPhysicsCfg.thin_walled().rest_offset == 0.015
    assert objects.LEGACY_DENSITY == 200.0
    with pytest.raises(ValueError, match="contact_offset"):
        ObjectPhysicsCfg(rest_offset=0.03, contact_offset=0.02)
    with pytest.raises(ValueError, match="density"):
        ObjectPhysicsCfg(density=0.0)


def test_usd_holds_one_rigid_body_with_the_properties(sample_assets):
    from pxr import UsdPhysics, UsdShade

    table, chair = sample_assets
    assert len(table.parts) < len(chair.parts)  # so the table is padded
    for asset in sample_assets:
        stage = _open_stage(asset.usd_path)
        root = stage.GetDefaultPrim()
        assert root.HasAPI(UsdPhysics.RigidBodyAPI)
        assert UsdPhysics.MassAPI(root).GetDensityAttr().Get() == 1000.0
        assert root.GetAttribute("physxRigidBody:linearDamping").Get() == pytest.approx(0.01)
        assert root.GetAttribute("physxRigidBody:angularDamping").Get() == pytest.approx(0.01)
        bodies = [p for p in stage.Traverse() if p.HasAPI(UsdPhysics.RigidBodyAPI)]
        assert bodies == [root]
        colliders = [p for p in stage.Traverse() if p.HasAPI(UsdPhysics.CollisionAPI)]
        assert len(colliders) == len(chair.parts)  # same count in both files
        hulls = [c for c in colliders if c.GetName().startswith("hull_")]
        assert len(hulls) == len(asset.parts)
        for prim in colliders:
            assert UsdPhysics.MeshCollisionAPI(prim).GetApproximationAttr().Get() == UsdPhysics.Tokens.convexHull
        for prim in hulls:
            assert prim.GetAttribute("physxCollision:restOffset").Get() == pytest.approx(0.002)
            material, _ = UsdShade.MaterialBindingAPI(prim).ComputeBoundMaterial("physics")
            mat = UsdPhysics.MaterialAPI(material.GetPrim())
            assert mat.GetStaticFrictionAttr().Get() == pytest.approx(0.6)
            assert mat.GetDynamicFrictionAttr().Get() == pytest.approx(0.6)
            assert mat.GetRestitutionAttr().Get() == pytest.approx(0.05)
        assert torch.equal(objects.read_surface_points(asset.usd_path), asset.surface_points)


def test_padding_parts_are_inert(sample_assets):
    """The table's padding parts: tiny, inside its largest part, in their own collision group."""
    from pxr import UsdGeom, UsdPhysics
    from scipy.spatial import ConvexHull

    table = sample_assets[0]
    stage = _open_stage(table.usd_path)
    pads = [p for p in stage.Traverse() if p.GetName().startswith("pad_")]
    assert len(pads) == len(sample_assets[1].parts) - len(table.parts)
    largest = ConvexHull(max(table.parts, key=lambda p: p.volume()).vertices)
    group = UsdPhysics.CollisionGroup(stage.GetPrimAtPath(f"{objects.ROOT_PRIM}/{objects.PADDING_GROUP}"))
    members = group.GetCollidersCollectionAPI().ComputeMembershipQuery()
    for pad in pads:
        pts = np.asarray(UsdGeom.Mesh(pad).GetPointsAttr().Get(), dtype=np.float64)
        assert np.ptp(pts, axis=0).max() <= 1.001e-3
        assert ((pts @ largest.equations[:, :3].T + largest.equations[:, 3]) < 0).all()
        assert members.IsPathIncluded(pad.GetPath())
    hull_group = UsdPhysics.CollisionGroup(stage.GetPrimAtPath(f"{objects.ROOT_PRIM}/{objects.PARTS_GROUP}"))
    assert not hull_group.GetCollidersCollectionAPI().ComputeMembershipQuery().IsPathIncluded(pads[0].GetPath())


def test_usd_cache_key_follows_the_properties(registry):
    a = registry.asset(DEMO_OBJECT_NAME)
    assert registry.asset(DEMO_OBJECT_NAME).usd_path == a.usd_path
    light = registry.asset(DEMO_OBJECT_NAME, physics=ObjectPhysicsCfg(density=objects.LEGACY_DENSITY))
    assert light.usd_path != a.usd_path
    assert light.expected_mass == pytest.approx(a.expected_mass / 5)
    with pytest.raises(ValueError, match="less than its"):
        registry.asset(DEMO_OBJECT_NAME, num_collision_shapes=0)


def test_object_spawn_config_lists_one_variant_per_object(sample_assets):
    import isaaclab.sim as sim_utils

    from intermimic.assets.object_scene import cyclic_clone_strategy, env_surface_points, object_cfg

    cfg = object_cfg(sample_assets)
    assert isinstance(cfg.spawn, sim_utils.MultiAssetSpawnerCfg)
    assert [v.usd_path for v in cfg.spawn.assets_cfg] == [str(a.usd_path) for a in sample_assets]
    assert all(v.activate_contact_sensors for v in cfg.spawn.assets_cfg)
    assert isinstance(object_cfg(sample_assets[:1]).spawn, sim_utils.UsdFileCfg)
    assert cyclic_clone_strategy(np.ones(3), 7).tolist() == [0, 1, 2, 0, 1, 2, 0]
    points = env_surface_points(sample_assets, torch.tensor([1, 0, 1]))
    assert points.shape == (3, 1024, 3)
    assert torch.equal(points[0], sample_assets[1].surface_points)


def test_stl_mesh_becomes_an_asset(tmp_path, monkeypatch):
    """An STL file (not centred) in an objects folder: centred, decomposed, one convex part
    with the box's volume, a USD file and 1024 surface points on the box's faces."""
    import trimesh

    monkeypatch.setenv("INTERMIMIC_CACHE", str(tmp_path / "cache"))
    box = trimesh.creation.box(extents=(0.5, 0.2, 0.1))
    box.apply_translation((1.0, 2.0, 3.0))
    (tmp_path / "objects").mkdir()
    box.export(tmp_path / "objects" / "plank.stl")
    registry = ObjectRegistry(tmp_path / "objects")
    assert "plank" in registry.names()
    asset = registry.asset("plank")
    assert asset.usd_path.is_file()
    assert asset.collision_volume == pytest.approx(0.5 * 0.2 * 0.1, rel=1e-4)
    pts = asset.surface_points.abs()
    on_face = (pts - torch.tensor([0.25, 0.1, 0.05])).abs().min(dim=-1).values
    assert on_face.max() < 1e-6
