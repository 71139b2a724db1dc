"""The MDP terms' body groups come from the embodiment: SMPL-X's are its spec's lists (so nothing
changed for the humanoid), and the G1's resolve by name in the G1's own body order."""

from types import SimpleNamespace

import pytest
import torch

from conftest import G1_URDF

from intermimic.assets import humanoid_spec as spec
from intermimic.tasks.mdp import rewards as R
from intermimic.tasks.mdp.body_groups import default_groups, groups_of

pytestmark = pytest.mark.unit
URDF = G1_URDF
needs_urdf = pytest.mark.skipif(not URDF.is_file(), reason=f"G1 description absent: {URDF}")


def test_smplx_groups_are_the_spec_lists():
    g = default_groups()
    assert list(g.key) == spec.KEY_BODY_IDS and list(g.rotation_error) == spec.ROTATION_ERROR_BODY_IDS
    assert {s: list(ids) for s, ids in g.hands.items()} == spec.HAND_BODY_IDS
    assert g.contact_orders == spec.CONTACT_BODY_ORDERS
    assert list(g.other_contact[True]) == spec.RELEASE_OTHER_CONTACT_BODY_IDS
    hands = set(spec.HAND_BODY_IDS["L"] + spec.HAND_BODY_IDS["R"])
    assert list(g.other_contact[False]) == [i for i in range(spec.NUM_BODIES) if i not in hands]
    legs = [spec.KEY_BODY_NAMES[i] for i, full in enumerate(g.full_weight_in_key[False]) if full]
    assert legs == list(spec.LEG_BODY_NAMES)
    release = [spec.KEY_BODY_NAMES[i] for i, full in enumerate(g.full_weight_in_key[True]) if full]
    assert release == [n for n in spec.KEY_BODY_NAMES if n in spec.RELEASE_FULL_WEIGHT_BODY_NAMES]
    # the collider rule and E_r's jointed bodies leave the humanoid's groups as they were
    assert list(g.colliding) == list(range(spec.NUM_BODIES)) == list(g.rotation_reward)


@needs_urdf
def test_g1_groups_name_the_g1_bodies_and_drive_the_reward_terms():
    from intermimic.assets.embodiment import get_embodiment
    from intermimic.assets.g1_dex3 import HAND_BODY_NAMES, KEY_BODY_NAMES

    g1 = get_embodiment("g1_dex3", urdf=URDF)
    g = groups_of(g1)
    assert [g1.body_names[i] for i in g.key] == list(KEY_BODY_NAMES) and len(g.key) == 20
    assert [g1.body_names[i] for i in g.hands["L"]] == list(HAND_BODY_NAMES["L"])
    assert g.contact_orders["release_legacy"] == g.contact_orders["body"]  # no release quirk for the G1
    full = [KEY_BODY_NAMES[i] for i, f in enumerate(g.full_weight_in_key[False]) if f]
    assert full and all(any(k in n for k in ("hip", "knee", "ankle")) for n in full)
    # the human error terms run on G1-sized states: zero at the reference, positive off it
    n = g1.num_bodies
    torch.manual_seed(0)
    q = torch.nn.functional.normalize(torch.randn(2, n, 4), dim=-1)
    ref = SimpleNamespace(body_pos=torch.randn(2, n, 3), body_quat=q, body_lin_vel=torch.zeros(2, n, 3),
                          body_ang_vel=torch.zeros(2, n, 3), interaction_field=torch.ones(2, n, 3))  # fmt: skip
    same = R.human_errors(ref, ref.body_pos, ref.body_quat, ref.body_lin_vel, ref.body_ang_vel, 5.0, groups=g)
    assert all(float(v.abs().max()) < 1e-5 for v in same.values())
    moved = ref.body_pos.clone()
    moved[:, g.key[3]] += torch.tensor([0.1, 0.0, 0.0])
    off = R.human_errors(ref, moved, ref.body_quat, ref.body_lin_vel, ref.body_ang_vel, 5.0, groups=g)["p"]
    assert torch.all(off > 0)
    elsewhere = ref.body_pos.clone()
    not_key = next(i for i in range(n) if i not in g.key)
    elsewhere[:, not_key] += 1.0
    assert float(R.human_errors(ref, elsewhere, ref.body_quat, ref.body_lin_vel, ref.body_ang_vel, 5.0,
                                groups=g)["p"].abs().max()) < 1e-6  # fmt: skip


@needs_urdf
def test_g1_contact_groups_hold_only_bodies_with_a_collider_and_e_r_only_jointed_bodies():
    """The fingertip frames, the lidar frame and the pelvis have no collider: no contact group
    holds them. E_r ignores the rotation of a body fixed to its parent (its error is its
    parent's), and counts a jointed body's."""
    from intermimic.assets.embodiment import get_embodiment

    g1 = get_embodiment("g1_dex3", urdf=URDF)
    g = groups_of(g1)
    names = lambda ids: {g1.body_names[i] for i in ids}  # noqa: E731
    without = set(g1.body_names) - set(g1.collider_body_names)
    assert {"pelvis", "mid360_link", "left_hand_index_tip_link", "right_hand_thumb_tip_link"} <= without
    for ids in (*g.hands.values(), g.other_contact[False], g.other_contact[True], g.colliding, g.contact_orders["body"]):
        assert not names(ids) & without
    assert names(g.hands["L"]) | names(g.hands["R"]) | names(g.other_contact[False]) == set(g1.collider_body_names)
    n = g1.num_bodies
    torch.manual_seed(1)
    q = torch.nn.functional.normalize(torch.randn(1, n, 4), dim=-1)
    ref = SimpleNamespace(body_pos=torch.randn(1, n, 3), body_quat=q, body_lin_vel=torch.zeros(1, n, 3),
                          body_ang_vel=torch.zeros(1, n, 3), interaction_field=torch.ones(1, n, 3))  # fmt: skip
    flipped = q.clone()
    for fixed in ("mid360_link", "left_hand_palm_link", "right_hand_index_tip_link"):
        flipped[:, g1.body_names.index(fixed)] = torch.tensor([1.0, 0.0, 0.0, 0.0])
    e_r = R.human_errors(ref, ref.body_pos, flipped, ref.body_lin_vel, ref.body_ang_vel, 5.0, groups=g)["r"]
    assert float(e_r.abs().max()) < 1e-6
    flipped[:, g1.body_names.index("left_knee_link")] = torch.tensor([1.0, 0.0, 0.0, 0.0])
    e_r = R.human_errors(ref, ref.body_pos, flipped, ref.body_lin_vel, ref.body_ang_vel, 5.0, groups=g)["r"]
    assert float(e_r) > 0.0 and len(g.rotation_reward) == 44
