"""Retargeting: SMPL-X clips to a robot by inverse kinematics, and teacher rollouts to clips."""
