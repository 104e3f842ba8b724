"""The core profile: no extra attributes, for registries that need none."""

from amnesty.registry.profiles import Profile

CORE = Profile(
    name="core",
    description="Core registry only, no jurisdiction attributes.",
    authorities=(),
    id_case="insensitive",  # ids differing only by case are one id (and collide)
)
