"""Russia 2015: the Victory-day amnesty of 24 April 2015."""

from amnesty.registry.profiles import Profile
from amnesty.registry.schema import BOOLEAN, INTEGER, Column

RU_2015 = Profile(
    name="ru-2015",
    description="Russian Federation, 2015: colonies, SIZO and probation inspectorates under "
    "the Federal Penitentiary Service.",
    authorities=("FSIN",),
    id_case="insensitive",  # ids differing only by case are one id (and collide)
    person_attributes=(
        Column(
            "veteran",
            BOOLEAN,
            "Took part in combat defending the Fatherland or served in a combat zone.",
            unknown="not recorded",
        ),
        Column(
            "counter_terrorism_service",
            BOOLEAN,
            "Served in the counter-terrorist operation in the North Caucasus.",
            unknown="not recorded",
        ),
        Column(
            "chernobyl",
            BOOLEAN,
            "Chernobyl liquidator or irradiated by the accident.",
            unknown="not recorded",
        ),
        Column("pregnant", BOOLEAN, "Pregnant.", unknown="not recorded"),
        Column(
            "minor_children",
            INTEGER,
            "Number of minor or disabled children in care.",
            min_value=0,
            unknown="not recorded",
        ),
        Column("single_parent", BOOLEAN, "Raises children alone.", unknown="not recorded"),
        Column(
            "disability_group",
            INTEGER,
            "Disability group I, II or III; 0 for none.",
            min_value=0,
            unknown="not recorded",
        ),
        Column("tuberculosis", BOOLEAN, "Active tuberculosis.", unknown="not recorded"),
        Column(
            "cancer_stage",
            INTEGER,
            "Cancer stage 1-4; 0 for none.",
            min_value=0,
            unknown="not recorded",
        ),
        Column(
            "regime_violator",
            BOOLEAN,
            "Declared a persistent violator of the regime.",
            unknown="not recorded",
        ),
        Column(
            "dangerous_recidivist",
            BOOLEAN,
            "Especially dangerous recidivist.",
            unknown="not recorded",
        ),
    ),
    conviction_attributes=(
        Column(
            "first_conviction", BOOLEAN, "The person's first conviction.", unknown="not recorded"
        ),
        Column(
            "committed_in_custody",
            BOOLEAN,
            "Committed while serving a sentence.",
            unknown="not recorded",
        ),
        Column(
            "within_10y_of_amnesty",
            BOOLEAN,
            "Committed within 10 years after a pardon or amnesty.",
            unknown="not recorded",
        ),
    ),
)
