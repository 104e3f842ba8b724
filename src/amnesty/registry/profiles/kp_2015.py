"""DPRK 2015: the founding case (see shared reference founding-case-dprk-2015)."""

from amnesty.registry.profiles import Profile

KP_2015 = Profile(
    name="kp-2015",
    description="Democratic People's Republic of Korea, 2015: kyohwaso, county labour "
    "training centres and Ministry of State Security camps.",
    authorities=("MPS", "MSS"),  # Ministry of People's Security, Ministry of State Security
    id_case="insensitive",  # ids differing only by case are one id (and collide)
)
