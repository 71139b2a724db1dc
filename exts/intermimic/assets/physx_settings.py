"""The release's PhysX settings of bodies and collision shapes (its Isaac Gym sim parameters and
asset options), one value each; the humanoid, a robot, the ground and the objects read them here.

Isaac Gym applies ``sim.physx.contact_offset`` / ``rest_offset`` to every shape that does not set
its own (the humanoid's and the ground's); the objects set their rest offsets themselves
(:mod:`.objects`). PhysX's own defaults differ (angular damping 0.05, an automatic contact offset),
so every value here is authored explicitly.
"""

from __future__ import annotations

import math

CONTACT_OFFSET = 0.02
"""Distance (m) at which a shape starts generating contacts: the release's ``physx.contact_offset``
(humanoid, robot, ground and objects alike)."""
REST_OFFSET = 0.0
"""Separation (m) at rest of the humanoid's, a robot's and the ground's shapes (``physx.rest_offset``)."""
BODY_ANGULAR_DAMPING = 0.01
"""Angular velocity damping of the humanoid's and a robot's links (asset option ``angular_damping``)."""
BODY_LINEAR_DAMPING = 0.0
"""Linear velocity damping of the humanoid's and a robot's links (Isaac Gym's default)."""
BODY_MAX_ANGULAR_VELOCITY = 100.0
"""Largest angular speed (rad/s) of the humanoid's and a robot's links (asset option ``max_angular_velocity``)."""
BODY_MAX_ANGULAR_VELOCITY_DEG = math.degrees(BODY_MAX_ANGULAR_VELOCITY)
"""The same in the USD attribute's unit (deg/s)."""
HUMANOID_FRICTION = 1.0
"""Friction coefficient of the humanoid's shapes: the release's MJCF sets none, so its importer
keeps 1.0 (combined with the ground's or the object's by averaging)."""
