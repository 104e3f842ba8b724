"""DPRK geography and facilities for the kp-2015 profile.

Provinces and special cities carry their ISO 3166-2:KP codes as division ids
(``KP-01`` Pyongyang ... ``KP-14`` Nampo); cities, counties and Pyongyang's
districts under them are numbered in the order listed here (``KP-02-005``), so
the ids are stable as long as these lists only grow at the end.

Names are the public ones as of 2015 to the best of our knowledge; a few
generated county names per province (``name_is_real = false``) stand in for the
many real counties not listed. Facility names follow public reports (kyohwaso
numbers and locations as defectors' testimony gives them) and are approximate.
"""

from __future__ import annotations

import pyarrow as pa

from amnesty.registry.generators.common import Columns, to_arrow
from amnesty.registry.schema import DIVISIONS, FACILITIES

COUNTRY = ("KP", "조선민주주의인민공화국", "Democratic People's Republic of Korea")

# (division_id, level, hangul, romanised, [(hangul, romanised, level), ...])
_C, _K, _D = "city", "county", "district"
PROVINCES: tuple[tuple[str, str, str, str, tuple[tuple[str, str, str], ...]], ...] = (
    (
        "KP-01",
        "special_city",
        "평양직할시",
        "Pyongyang",
        (
            ("중구역", "Central District", _D),
            ("평천구역", "Phyongchon", _D),
            ("보통강구역", "Pothonggang", _D),
            ("모란봉구역", "Moranbong", _D),
            ("서성구역", "Sosong", _D),
            ("선교구역", "Songyo", _D),
            ("동대원구역", "Tongdaewon", _D),
            ("대동강구역", "Taedonggang", _D),
            ("사동구역", "Sadong", _D),
            ("대성구역", "Taesong", _D),
            ("만경대구역", "Mangyongdae", _D),
            ("형제산구역", "Hyongjesan", _D),
            ("력포구역", "Ryokpho", _D),
            ("락랑구역", "Rangnang", _D),
            ("삼석구역", "Samsok", _D),
            ("강동군", "Kangdong", _K),
            ("강남군", "Kangnam", _K),
        ),
    ),
    (
        "KP-02",
        "province",
        "평안남도",
        "South Pyongan",
        (
            ("평성시", "Pyongsong", _C),
            ("안주시", "Anju", _C),
            ("개천시", "Kaechon", _C),
            ("순천시", "Sunchon", _C),
            ("덕천시", "Tokchon", _C),
            ("성천군", "Songchon", _K),
            ("대동군", "Taedong", _K),
            ("숙천군", "Sukchon", _K),
            ("평원군", "Pyongwon", _K),
            ("증산군", "Jungsan", _K),
            ("문덕군", "Mundok", _K),
            ("회창군", "Hoechang", _K),
            ("북창군", "Pukchang", _K),
            ("맹산군", "Maengsan", _K),
            ("양덕군", "Yangdok", _K),
            ("은산군", "Unsan", _K),
            ("신양군", "Sinyang", _K),
        ),
    ),
    (
        "KP-03",
        "province",
        "평안북도",
        "North Pyongan",
        (
            ("신의주시", "Sinuiju", _C),
            ("정주시", "Jongju", _C),
            ("구성시", "Kusong", _C),
            ("룡천군", "Ryongchon", _K),
            ("의주군", "Uiju", _K),
            ("삭주군", "Sakju", _K),
            ("선천군", "Sonchon", _K),
            ("철산군", "Cholsan", _K),
            ("운산군", "Unsan", _K),
            ("녕변군", "Nyongbyon", _K),
            ("박천군", "Pakchon", _K),
            ("태천군", "Thaechon", _K),
            ("천마군", "Chonma", _K),
            ("동림군", "Tongrim", _K),
        ),
    ),
    (
        "KP-04",
        "province",
        "자강도",
        "Chagang",
        (
            ("강계시", "Kanggye", _C),
            ("만포시", "Manpho", _C),
            ("희천시", "Huichon", _C),
            ("자성군", "Jasong", _K),
            ("초산군", "Chosan", _K),
            ("위원군", "Wiwon", _K),
            ("전천군", "Jonchon", _K),
            ("시중군", "Sijung", _K),
            ("장강군", "Janggang", _K),
            ("성간군", "Songgan", _K),
        ),
    ),
    (
        "KP-05",
        "province",
        "황해남도",
        "South Hwanghae",
        (
            ("해주시", "Haeju", _C),
            ("옹진군", "Ongjin", _K),
            ("강령군", "Kangryong", _K),
            ("벽성군", "Pyoksong", _K),
            ("신천군", "Sinchon", _K),
            ("안악군", "Anak", _K),
            ("재령군", "Jaeryong", _K),
            ("은률군", "Unryul", _K),
            ("과일군", "Kwail", _K),
            ("연안군", "Yonan", _K),
            ("배천군", "Paechon", _K),
            ("태탄군", "Thaethan", _K),
            ("장연군", "Jangyon", _K),
            ("삼천군", "Samchon", _K),
        ),
    ),
    (
        "KP-06",
        "province",
        "황해북도",
        "North Hwanghae",
        (
            ("사리원시", "Sariwon", _C),
            ("송림시", "Songrim", _C),
            ("개성시", "Kaesong", _C),
            ("황주군", "Hwangju", _K),
            ("봉산군", "Pongsan", _K),
            ("은파군", "Unpha", _K),
            ("서흥군", "Sohung", _K),
            ("평산군", "Phyongsan", _K),
            ("금천군", "Kumchon", _K),
            ("신계군", "Singye", _K),
            ("곡산군", "Koksan", _K),
            ("수안군", "Suan", _K),
            ("연탄군", "Yonthan", _K),
            ("개풍군", "Kaephung", _K),
            ("장풍군", "Janghung", _K),
        ),
    ),
    (
        "KP-07",
        "province",
        "강원도",
        "Kangwon",
        (
            ("원산시", "Wonsan", _C),
            ("문천시", "Munchon", _C),
            ("고성군", "Kosong", _K),
            ("통천군", "Thongchon", _K),
            ("안변군", "Anbyon", _K),
            ("철원군", "Cholwon", _K),
            ("김화군", "Kimhwa", _K),
            ("평강군", "Phyonggang", _K),
            ("천내군", "Chonnae", _K),
            ("법동군", "Poptong", _K),
            ("이천군", "Ichon", _K),
        ),
    ),
    (
        "KP-08",
        "province",
        "함경남도",
        "South Hamgyong",
        (
            ("함흥시", "Hamhung", _C),
            ("단천시", "Tanchon", _C),
            ("신포시", "Sinpho", _C),
            ("요덕군", "Yodok", _K),
            ("영광군", "Yonggwang", _K),
            ("정평군", "Jongphyong", _K),
            ("홍원군", "Hongwon", _K),
            ("북청군", "Pukchong", _K),
            ("리원군", "Riwon", _K),
            ("금야군", "Kumya", _K),
            ("장진군", "Jangjin", _K),
            ("부전군", "Pujon", _K),
            ("함주군", "Hamju", _K),
            ("고원군", "Kowon", _K),
        ),
    ),
    (
        "KP-09",
        "province",
        "함경북도",
        "North Hamgyong",
        (
            ("청진시", "Chongjin", _C),
            ("김책시", "Kimchaek", _C),
            ("회령시", "Hoeryong", _C),
            ("무산군", "Musan", _K),
            ("온성군", "Onsong", _K),
            ("경성군", "Kyongsong", _K),
            ("길주군", "Kilju", _K),
            ("명천군", "Myongchon", _K),
            ("화성군", "Hwasong", _K),
            ("어랑군", "Orang", _K),
            ("새별군", "Saebyol", _K),
            ("연사군", "Yonsa", _K),
            ("부령군", "Puryong", _K),
        ),
    ),
    (
        "KP-10",
        "province",
        "량강도",
        "Ryanggang",
        (
            ("혜산시", "Hyesan", _C),
            ("삼지연군", "Samjiyon", _K),
            ("대홍단군", "Taehongdan", _K),
            ("보천군", "Pochon", _K),
            ("백암군", "Paegam", _K),
            ("운흥군", "Unhung", _K),
            ("갑산군", "Kapsan", _K),
            ("풍서군", "Phungso", _K),
            ("김형직군", "Kim Hyong Jik", _K),
            ("김정숙군", "Kim Jong Suk", _K),
            ("삼수군", "Samsu", _K),
        ),
    ),
    (
        "KP-13",
        "special_city",
        "라선특별시",
        "Rason",
        (
            ("라진구역", "Rajin", _D),
            ("선봉구역", "Sonbong", _D),
        ),
    ),
    (
        "KP-14",
        "special_city",
        "남포특별시",
        "Nampo",
        (
            ("항구구역", "Hanggu", _D),
            ("와우도구역", "Waudo", _D),
            ("대안구역", "Taean", _D),
            ("천리마구역", "Chollima", _D),
            ("강서구역", "Kangso", _D),
            ("룡강군", "Ryonggang", _K),
            ("온천군", "Onchon", _K),
        ),
    ),
)

# Generated county names for the counties not listed: two syllables + 군.
_GEN_SYLLABLES = (
    ("상", "Sang"),
    ("하", "Ha"),
    ("동", "Tong"),
    ("서", "So"),
    ("화", "Hwa"),
    ("평", "Phyong"),
    ("룡", "Ryong"),
    ("산", "San"),
    ("천", "Chon"),
    ("포", "Pho"),
)
GENERATED_PER_PROVINCE = 2

# The 12 kyohwaso (penitentiaries), MPS: (facility_id, hangul, romanised, province, place).
PENITENTIARIES: tuple[tuple[str, str, str, str, str], ...] = (
    ("KP-PEN-01", "개천 제1호 교화소", "Kaechon penitentiary No. 1", "KP-02", "개천시"),
    ("KP-PEN-02", "강동 제4호 교화소", "Kangdong penitentiary No. 4", "KP-01", "강동군"),
    ("KP-PEN-03", "함흥 제9호 교화소", "Hamhung penitentiary No. 9", "KP-08", "함흥시"),
    ("KP-PEN-04", "증산 제11호 교화소", "Jungsan penitentiary No. 11", "KP-02", "증산군"),
    ("KP-PEN-05", "전거리 제12호 교화소", "Jongori penitentiary No. 12", "KP-09", "회령시"),
    ("KP-PEN-06", "오로 제22호 교화소", "Oro penitentiary No. 22", "KP-08", "영광군"),
    ("KP-PEN-07", "단천 제77호 교화소", "Tanchon penitentiary No. 77", "KP-08", "단천시"),
    ("KP-PEN-08", "신의주 교화소", "Sinuiju penitentiary", "KP-03", "신의주시"),
    ("KP-PEN-09", "혜산 교화소", "Hyesan penitentiary", "KP-10", "혜산시"),
    ("KP-PEN-10", "해주 교화소", "Haeju penitentiary", "KP-05", "해주시"),
    ("KP-PEN-11", "원산 교화소", "Wonsan penitentiary", "KP-07", "원산시"),
    ("KP-PEN-12", "사리원 교화소", "Sariwon penitentiary", "KP-06", "사리원시"),
)

# Political prison camps (kwanliso), MSS. No. 14 is the founding report's camp.
KAECHON_14 = "KP-CAMP-14"
POLITICAL_CAMPS: tuple[tuple[str, str, str, str, str], ...] = (
    (KAECHON_14, "개천 제14호 관리소", "Kaechon internment camp No. 14", "KP-02", "개천시"),
    ("KP-CAMP-15", "요덕 제15호 관리소", "Yodok internment camp No. 15", "KP-08", "요덕군"),
    ("KP-CAMP-16", "화성 제16호 관리소", "Hwasong internment camp No. 16", "KP-09", "화성군"),
    ("KP-CAMP-25", "청진 제25호 관리소", "Chongjin internment camp No. 25", "KP-09", "청진시"),
)


def local_divisions() -> list[tuple[str, str, str, str, str, bool]]:
    """Every city, county and district: (id, parent, level, hangul, romanised, is_real)."""
    out = []
    for province_id, province_level, _, _, places in PROVINCES:
        for i, (hangul, latin, level) in enumerate(places, start=1):
            out.append((f"{province_id}-{i:03d}", province_id, level, hangul, latin, True))
        if province_level == "special_city":
            continue  # their districts are all listed
        number = int(province_id[3:])
        for j in range(GENERATED_PER_PROVINCE):
            a = _GEN_SYLLABLES[(number * 3 + j) % len(_GEN_SYLLABLES)]
            b = _GEN_SYLLABLES[(number * 7 + j * 3 + 1) % len(_GEN_SYLLABLES)]
            i = len(places) + j + 1
            out.append(
                (
                    f"{province_id}-{i:03d}",
                    province_id,
                    "county",
                    a[0] + b[0] + "군",
                    f"{a[1]}{b[1].lower()}",
                    False,
                )
            )
    return out


def divisions_table() -> pa.Table:
    rows: list[tuple[str, str | None, str, str, str, bool]] = [
        (COUNTRY[0], None, "country", COUNTRY[1], COUNTRY[2], True)
    ]
    rows += [(pid, "KP", level, h, r, True) for pid, level, h, r, _ in PROVINCES]
    rows += local_divisions()
    cols = Columns()
    for i, name in enumerate(DIVISIONS.column_names):
        cols[name] = [row[i] for row in rows]
    return to_arrow(DIVISIONS, cols, len(rows))


def _division_of(province_id: str, hangul_place: str) -> str:
    for division_id, parent, _, hangul, _, _ in local_divisions():
        if parent == province_id and hangul == hangul_place:
            return division_id
    raise KeyError(f"{hangul_place} not listed under {province_id}")


def facilities_table() -> pa.Table:
    """Penitentiaries, one local centre per city/county/district, and the MSS camps.

    A local centre is a labour training centre (``KP-LTC-...``) in most places and a
    detention centre (``KP-DC-...``) in every third, suffixed with its division id.
    """
    rows: list[tuple[str, str, str, str, str, str]] = []
    for fid, h, r, province, place in PENITENTIARIES:
        rows.append((fid, h, r, "penitentiary", "MPS", _division_of(province, place)))
    for k, (did, _, _, hangul, latin, _) in enumerate(local_divisions()):
        suffix = did[3:]
        if k % 3 == 2:
            rows.append(
                (
                    f"KP-DC-{suffix}",
                    f"{hangul} 집결소",
                    f"{latin} detention centre",
                    "detention_centre",
                    "MPS",
                    did,
                )
            )
        else:
            rows.append(
                (
                    f"KP-LTC-{suffix}",
                    f"{hangul} 로동단련대",
                    f"{latin} labour training centre",
                    "labour_training_centre",
                    "MPS",
                    did,
                )
            )
    for fid, h, r, province, place in POLITICAL_CAMPS:
        rows.append((fid, h, r, "political_prison_camp", "MSS", _division_of(province, place)))
    cols = Columns()
    for i, name in enumerate(FACILITIES.column_names):
        cols[name] = [row[i] for row in rows]
    return to_arrow(FACILITIES, cols, len(rows))
