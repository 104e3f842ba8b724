"""Personal names, built column-wise from small pools of parts.

A name is a vectorised choice of parts (surname, given-name syllables, patronymic)
joined with Arrow's string kernels, so a million names cost a few array operations.
Each part carries its own script and its romanisation, so the two name columns
always agree.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from amnesty.registry.generators.common import join, take

# --- Korean ---------------------------------------------------------------------
# Surnames with rough frequency weights; romanised the way DPRK publications write
# them (Ri for 리, Rim for 림, Jong for 정, O for 오).
KOREAN_SURNAMES: tuple[tuple[str, str, float], ...] = (
    ("김", "Kim", 22.0),
    ("리", "Ri", 15.0),
    ("박", "Pak", 8.5),
    ("최", "Choe", 4.7),
    ("정", "Jong", 4.4),
    ("강", "Kang", 2.3),
    ("조", "Jo", 2.1),
    ("윤", "Yun", 2.1),
    ("장", "Jang", 2.0),
    ("림", "Rim", 1.7),
    ("한", "Han", 1.5),
    ("오", "O", 1.5),
    ("서", "So", 1.3),
    ("신", "Sin", 1.2),
    ("권", "Kwon", 1.1),
    ("황", "Hwang", 1.1),
    ("안", "An", 1.1),
    ("송", "Song", 1.0),
    ("전", "Jon", 1.0),
    ("홍", "Hong", 1.0),
    ("류", "Ryu", 0.9),
    ("고", "Ko", 0.9),
    ("문", "Mun", 0.9),
    ("량", "Ryang", 0.8),
    ("손", "Son", 0.8),
    ("배", "Pae", 0.8),
    ("백", "Paek", 0.7),
    ("허", "Ho", 0.7),
    ("남", "Nam", 0.5),
    ("심", "Sim", 0.5),
    ("로", "Ro", 0.4),
    ("하", "Ha", 0.4),
    ("곽", "Kwak", 0.3),
    ("차", "Cha", 0.3),
    ("주", "Ju", 0.3),
    ("우", "U", 0.3),
    ("구", "Ku", 0.3),
    ("방", "Pang", 0.2),
    ("명", "Myong", 0.2),
    ("태", "Thae", 0.2),
)

# Given names are two syllables; these pools lean male or female as names do.
KOREAN_MALE_SYLLABLES: tuple[tuple[str, str], ...] = (
    ("철", "Chol"),
    ("성", "Song"),
    ("일", "Il"),
    ("광", "Kwang"),
    ("혁", "Hyok"),
    ("남", "Nam"),
    ("수", "Su"),
    ("호", "Ho"),
    ("명", "Myong"),
    ("국", "Kuk"),
    ("학", "Hak"),
    ("준", "Jun"),
    ("룡", "Ryong"),
    ("민", "Min"),
    ("현", "Hyon"),
    ("춘", "Chun"),
    ("영", "Yong"),
    ("진", "Jin"),
    ("석", "Sok"),
    ("근", "Gun"),
    ("용", "Yong"),
    ("길", "Kil"),
    ("범", "Bom"),
    ("웅", "Ung"),
    ("무", "Mu"),
    ("덕", "Dok"),
    ("봉", "Bong"),
    ("세", "Se"),
    ("천", "Chon"),
    ("원", "Won"),
)
KOREAN_FEMALE_SYLLABLES: tuple[tuple[str, str], ...] = (
    ("희", "Hui"),
    ("순", "Sun"),
    ("옥", "Ok"),
    ("미", "Mi"),
    ("향", "Hyang"),
    ("금", "Kum"),
    ("경", "Kyong"),
    ("혜", "Hye"),
    ("화", "Hwa"),
    ("련", "Ryon"),
    ("심", "Sim"),
    ("주", "Ju"),
    ("복", "Pok"),
    ("영", "Yong"),
    ("은", "Un"),
    ("정", "Jong"),
    ("선", "Son"),
    ("숙", "Suk"),
    ("란", "Ran"),
    ("실", "Sil"),
    ("애", "Ae"),
    ("림", "Rim"),
    ("설", "Sol"),
    ("송", "Song"),
    ("명", "Myong"),
)


def korean_names(
    rng: np.random.Generator, is_female: npt.NDArray[np.bool_]
) -> tuple[pa.Array, pa.Array]:
    """Hangul names (김철수) and their romanisation (Kim Chol Su), surname first."""
    n = len(is_female)
    weights = np.array([w for _, _, w in KOREAN_SURNAMES])
    s_idx = rng.choice(len(KOREAN_SURNAMES), size=n, p=weights / weights.sum())
    hangul_parts = [take([s for s, _, _ in KOREAN_SURNAMES], s_idx)]
    latin_parts = [take([r for _, r, _ in KOREAN_SURNAMES], s_idx)]
    for _ in range(2):
        male = rng.integers(0, len(KOREAN_MALE_SYLLABLES), size=n)
        female = rng.integers(0, len(KOREAN_FEMALE_SYLLABLES), size=n)
        h = pc.if_else(
            pa.array(is_female),
            take([s for s, _ in KOREAN_FEMALE_SYLLABLES], female),
            take([s for s, _ in KOREAN_MALE_SYLLABLES], male),
        )
        r = pc.if_else(
            pa.array(is_female),
            take([r for _, r in KOREAN_FEMALE_SYLLABLES], female),
            take([r for _, r in KOREAN_MALE_SYLLABLES], male),
        )
        hangul_parts.append(h)
        latin_parts.append(r)
    return join(*hangul_parts), join(*latin_parts, sep=" ")


# --- Russian --------------------------------------------------------------------
# Surnames in the masculine form; the feminine is derived (Иванов -> Иванова,
# Ковальский -> Ковальская). Romanised roughly as Russian passports do.
RUSSIAN_SURNAMES: tuple[tuple[str, str], ...] = (
    ("Иванов", "Ivanov"),
    ("Смирнов", "Smirnov"),
    ("Кузнецов", "Kuznetsov"),
    ("Попов", "Popov"),
    ("Васильев", "Vasilev"),
    ("Петров", "Petrov"),
    ("Соколов", "Sokolov"),
    ("Михайлов", "Mikhailov"),
    ("Новиков", "Novikov"),
    ("Фёдоров", "Fedorov"),
    ("Морозов", "Morozov"),
    ("Волков", "Volkov"),
    ("Алексеев", "Alekseev"),
    ("Лебедев", "Lebedev"),
    ("Семёнов", "Semenov"),
    ("Егоров", "Egorov"),
    ("Павлов", "Pavlov"),
    ("Козлов", "Kozlov"),
    ("Степанов", "Stepanov"),
    ("Николаев", "Nikolaev"),
    ("Орлов", "Orlov"),
    ("Андреев", "Andreev"),
    ("Макаров", "Makarov"),
    ("Никитин", "Nikitin"),
    ("Захаров", "Zakharov"),
    ("Зайцев", "Zaitsev"),
    ("Соловьёв", "Solovev"),
    ("Борисов", "Borisov"),
    ("Яковлев", "Iakovlev"),
    ("Григорьев", "Grigorev"),
    ("Романов", "Romanov"),
    ("Воробьёв", "Vorobev"),
    ("Сергеев", "Sergeev"),
    ("Фролов", "Frolov"),
    ("Александров", "Aleksandrov"),
    ("Гусев", "Gusev"),
    ("Ковальский", "Kovalskii"),
    ("Чернов", "Chernov"),
    ("Ильин", "Ilin"),
    ("Гарипов", "Garipov"),
    ("Сафин", "Safin"),
    ("Хабибуллин", "Khabibullin"),
    ("Николаевский", "Nikolaevskii"),
    ("Васильевский", "Vasilevskii"),
    ("Петренко", "Petrenko"),
    ("Шевченко", "Shevchenko"),
)
RUSSIAN_MALE_NAMES: tuple[tuple[str, str], ...] = (
    ("Александр", "Aleksandr"),
    ("Сергей", "Sergei"),
    ("Дмитрий", "Dmitrii"),
    ("Андрей", "Andrei"),
    ("Алексей", "Aleksei"),
    ("Максим", "Maksim"),
    ("Евгений", "Evgenii"),
    ("Иван", "Ivan"),
    ("Михаил", "Mikhail"),
    ("Артём", "Artem"),
    ("Николай", "Nikolai"),
    ("Владимир", "Vladimir"),
    ("Денис", "Denis"),
    ("Роман", "Roman"),
    ("Павел", "Pavel"),
    ("Олег", "Oleg"),
    ("Игорь", "Igor"),
    ("Виктор", "Viktor"),
    ("Юрий", "Iurii"),
    ("Руслан", "Ruslan"),
)
RUSSIAN_FEMALE_NAMES: tuple[tuple[str, str], ...] = (
    ("Елена", "Elena"),
    ("Ольга", "Olga"),
    ("Наталья", "Natalia"),
    ("Татьяна", "Tatiana"),
    ("Ирина", "Irina"),
    ("Светлана", "Svetlana"),
    ("Анна", "Anna"),
    ("Мария", "Mariia"),
    ("Юлия", "Iuliia"),
    ("Екатерина", "Ekaterina"),
    ("Марина", "Marina"),
    ("Людмила", "Liudmila"),
    ("Оксана", "Oksana"),
    ("Галина", "Galina"),
)
# Father's names with the patronymic each gives a son and a daughter.
RUSSIAN_PATRONYMICS: tuple[tuple[str, str, str, str], ...] = (
    ("Иванович", "Ivanovich", "Ивановна", "Ivanovna"),
    ("Петрович", "Petrovich", "Петровна", "Petrovna"),
    ("Сергеевич", "Sergeevich", "Сергеевна", "Sergeevna"),
    ("Александрович", "Aleksandrovich", "Александровна", "Aleksandrovna"),
    ("Николаевич", "Nikolaevich", "Николаевна", "Nikolaevna"),
    ("Владимирович", "Vladimirovich", "Владимировна", "Vladimirovna"),
    ("Викторович", "Viktorovich", "Викторовна", "Viktorovna"),
    ("Юрьевич", "Iurevich", "Юрьевна", "Iurevna"),
    ("Михайлович", "Mikhailovich", "Михайловна", "Mikhailovna"),
    ("Андреевич", "Andreevich", "Андреевна", "Andreevna"),
    ("Анатольевич", "Anatolevich", "Анатольевна", "Anatolevna"),
    ("Васильевич", "Vasilevich", "Васильевна", "Vasilevna"),
    ("Дмитриевич", "Dmitrievich", "Дмитриевна", "Dmitrievna"),
    ("Олегович", "Olegovich", "Олеговна", "Olegovna"),
)


def _feminine(cyrillic: str, latin: str) -> tuple[str, str]:
    if cyrillic.endswith("ский"):
        return cyrillic[:-2] + "ая", latin[:-2] + "aia"
    if cyrillic.endswith(("ов", "ев", "ёв", "ин")):
        return cyrillic + "а", latin + "a"
    return cyrillic, latin  # -енко and the like do not change


def russian_names(
    rng: np.random.Generator, is_female: npt.NDArray[np.bool_]
) -> tuple[pa.Array, pa.Array]:
    """Cyrillic names (Иванова Елена Петровна) and Latin ones, surname first as in
    Russian registers."""
    n = len(is_female)
    female = pa.array(is_female)
    fem_surnames = [_feminine(c, lat) for c, lat in RUSSIAN_SURNAMES]

    s = rng.integers(0, len(RUSSIAN_SURNAMES), size=n)
    given_m = rng.integers(0, len(RUSSIAN_MALE_NAMES), size=n)
    given_f = rng.integers(0, len(RUSSIAN_FEMALE_NAMES), size=n)
    p = rng.integers(0, len(RUSSIAN_PATRONYMICS), size=n)

    def both(
        index_m: npt.NDArray[np.int64], index_f: npt.NDArray[np.int64], m: list[str], f: list[str]
    ) -> pa.Array:
        return pc.if_else(female, take(f, index_f), take(m, index_m))

    surname_c = both(s, s, [c for c, _ in RUSSIAN_SURNAMES], [c for c, _ in fem_surnames])
    surname_l = both(s, s, [lat for _, lat in RUSSIAN_SURNAMES], [lat for _, lat in fem_surnames])
    given_c = both(
        given_m, given_f, [c for c, _ in RUSSIAN_MALE_NAMES], [c for c, _ in RUSSIAN_FEMALE_NAMES]
    )
    given_l = both(
        given_m, given_f, [x for _, x in RUSSIAN_MALE_NAMES], [x for _, x in RUSSIAN_FEMALE_NAMES]
    )
    patr_c = both(p, p, [x[0] for x in RUSSIAN_PATRONYMICS], [x[2] for x in RUSSIAN_PATRONYMICS])
    patr_l = both(p, p, [x[1] for x in RUSSIAN_PATRONYMICS], [x[3] for x in RUSSIAN_PATRONYMICS])
    return (
        join(surname_c, given_c, patr_c, sep=" "),
        join(surname_l, given_l, patr_l, sep=" "),
    )
