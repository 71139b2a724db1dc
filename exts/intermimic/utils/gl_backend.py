"""Which OpenGL backend MuJoCo's offscreen renderer uses, chosen before MuJoCo is imported.

MuJoCo reads ``MUJOCO_GL`` once, when it is first imported (Newton imports it early), and
PyOpenGL reads ``PYOPENGL_PLATFORM`` the same way. :func:`choose_headless_gl` runs when the
``intermimic`` package is imported: without a display and without a choice made by the user,
it picks ``egl`` on a machine with an NVIDIA GPU and ``osmesa`` (software, Debian's
``libosmesa6``) elsewhere; with neither, rendering is disabled (``MUJOCO_GL=disable``: MuJoCo
would otherwise fail on import, taking training down with it) and videos fall back to the
skeleton renderer. A value the user set is never changed.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

HEADLESS_BACKENDS = ("egl", "osmesa")
NO_OSMESA = "no display, no NVIDIA EGL and no OSMesa library (install Debian's libosmesa6)"
_disabled_because: str | None = None


def _has_nvidia_egl() -> bool:
    import ctypes.util

    return Path("/dev/nvidia0").exists() and ctypes.util.find_library("EGL") is not None


def _egl_starts() -> str | None:
    """Why an EGL display cannot be initialised here (None: it can), tried through libEGL itself
    before MuJoCo (which reads its backend once, on import) is loaded."""
    import ctypes
    import ctypes.util

    try:
        egl = ctypes.CDLL(ctypes.util.find_library("EGL"))
        egl.eglGetDisplay.restype = ctypes.c_void_p
        egl.eglGetDisplay.argtypes = [ctypes.c_void_p]
        egl.eglInitialize.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_int)]
        egl.eglTerminate.argtypes = [ctypes.c_void_p]
        display = egl.eglGetDisplay(None)  # EGL_DEFAULT_DISPLAY
        if not display:
            return "no EGL display"
        major, minor = ctypes.c_int(), ctypes.c_int()
        if not egl.eglInitialize(display, ctypes.byref(major), ctypes.byref(minor)):
            return "eglInitialize failed"
        egl.eglTerminate(display)
    except (OSError, AttributeError) as exc:
        return f"libEGL cannot be used ({exc})"
    return None


def choose_headless_gl() -> str | None:
    """Set ``MUJOCO_GL``/``PYOPENGL_PLATFORM`` for a machine without a display; returns the backend
    in use (None: MuJoCo's own default, a window system)."""
    import ctypes.util

    global _disabled_because
    chosen = os.environ.get("MUJOCO_GL", "").strip().lower()
    if not chosen:
        if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
            return None
        egl_problem = _egl_starts() if _has_nvidia_egl() else "no NVIDIA GPU with libEGL"
        if egl_problem is None:
            chosen = "egl"
        elif ctypes.util.find_library("OSMesa"):
            chosen = "osmesa"
            if _has_nvidia_egl():
                print(f"[intermimic] warning: EGL does not start here ({egl_problem}); videos render with OSMesa "
                      "on the CPU", file=sys.stderr, flush=True)  # fmt: skip
        else:
            os.environ["MUJOCO_GL"] = "disable"
            _disabled_because = NO_OSMESA
            return None
        os.environ["MUJOCO_GL"] = chosen
    if chosen in HEADLESS_BACKENDS:
        os.environ.setdefault("PYOPENGL_PLATFORM", chosen)
    return chosen


def gl_backend_problem() -> str | None:
    """Why MuJoCo cannot render offscreen here (None: it can): a tiny context is made and freed."""
    try:
        import mujoco
        from mujoco.rendering.classic import gl_context
    except Exception as exc:  # noqa: BLE001 - any import failure means no renderer
        return f"mujoco's renderer cannot be imported ({exc})"
    if getattr(gl_context, "GLContext", None) is None:
        return _disabled_because or "MUJOCO_GL disables rendering"
    try:
        ctx = mujoco.GLContext(16, 16)
        ctx.make_current()
        ctx.free()
    except Exception as exc:  # noqa: BLE001 - missing libraries raise many kinds of errors
        backend = os.environ.get("MUJOCO_GL") or "glfw"
        hint = " (install Debian's libosmesa6)" if backend == "osmesa" else ""
        return f"no OpenGL context with MUJOCO_GL={backend}{hint}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
    return None
