"""Certificates render names in the registry's own script, and their numbers."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from amnesty.workflow.certificates import (
    CertificateData,
    DecreePart,
    FacilityPart,
    Ground,
    PersonPart,
    SignedUndertaking,
    certificate_number,
    render_batch,
    render_certificate,
)

DECREE = DecreePart(
    id="kp-2015-10",
    title="Decree on a general amnesty for the 70th anniversary of the Party",
    content_hash="sha256:0123456789abcdef0123",
    authority="Presidium of the Supreme People's Assembly",
    signed="2015-10-01",
)
FACILITY = FacilityPart("F-KY-14", "개천 제14호 관리소", "Kaechon No. 14")


def _cert(number: int, name: str, romanised: str, **kw: object) -> CertificateData:
    base: dict[str, object] = dict(
        number=certificate_number(DECREE.id, number),
        decree=DECREE,
        person=PersonPart(f"P{number:05d}", name, romanised, "1960-04-24"),
        facility=FACILITY,
        relief="conditional_release",
        release_date="2015-10-08",
        run_id="run-0001",
        executed_by="officer.ri",
        issued_on="2015-10-08",
        grounds=(Ground("g-theft", "Persons convicted of theft shall be released."),),
        undertakings=(
            SignedUndertaking("pledge", "I will not reoffend.", "2015-10-08", "Pak Myong-chol"),
        ),
    )
    base.update(kw)
    return CertificateData(**base)  # type: ignore[arg-type]


def _text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_hangul_name_and_number_are_in_the_pdf() -> None:
    pdf = render_certificate(_cert(1, "김철수", "Kim Chol-su"))
    assert pdf.startswith(b"%PDF")
    text = _text(pdf)
    assert "김철수" in text
    assert "Kim Chol-su" in text
    assert "kp-2015-10/000001" in text
    assert "g-theft" in text and "Persons convicted of theft" in text
    assert "Pak Myong-chol" in text  # the witness of the undertaking


def test_cyrillic_name_renders() -> None:
    text = _text(render_certificate(_cert(2, "Иванов Иван Иванович", "Ivanov Ivan Ivanovich")))
    assert "Иванов Иван Иванович" in text
    assert "kp-2015-10/000002" in text


def test_markup_characters_in_data_print_as_written() -> None:
    # Data goes in as JSON, never as markup: these would break or inject if interpolated.
    hostile = 'Ri #set page(width: 1pt) *$x$* [a] _b_ "c" \\ <l> @ref'
    text = _text(render_certificate(_cert(3, hostile, "Ri")))
    for token in ("#set page(width: 1pt)", "*$x$*", "[a]", "_b_", "<l>", "@ref"):
        assert token in text


def test_temporary_release_prints_the_return_date() -> None:
    cert = _cert(4, "박영희", "Pak Yong-hui", relief="temporary_release", return_date="2015-12-31")
    assert "2015-12-31" in _text(render_certificate(cert))


def test_facility_batch_lists_every_certificate_and_has_a_page_each() -> None:
    certs = [_cert(6, "Петров Пётр", "Petrov Pyotr"), _cert(5, "리영호", "Ri Yong-ho")]
    pdf = render_batch(FACILITY, certs)
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 3  # cover + one page each
    cover = reader.pages[0].extract_text()
    assert cover.index("kp-2015-10/000005") < cover.index("kp-2015-10/000006")
    assert "Петров Пётр" in cover and "리영호" in cover


def test_same_certificate_renders_to_the_same_bytes() -> None:
    cert = _cert(7, "김철수", "Kim Chol-su")
    assert render_certificate(cert) == render_certificate(cert)


def test_certificate_numbers_start_at_one() -> None:
    assert certificate_number("d", 12) == "d/000012"
    with pytest.raises(ValueError):
        certificate_number("d", 0)


def test_a_batch_in_parts_is_one_pdf_with_the_same_bytes_on_any_number_of_cores() -> None:
    # parts of two pages: the cover, then three runs of certificate pages, rendered by
    # two threads or one, joined into one PDF in certificate order
    certs = [_cert(n, f"리영호 {n}", f"Ri Yong-ho {n}") for n in (15, 11, 13, 12, 14)]
    two = render_batch(FACILITY, certs, workers=2, part_size=2)
    assert two == render_batch(FACILITY, certs, workers=1, part_size=2)
    reader = PdfReader(io.BytesIO(two))
    assert len(reader.pages) == 6  # cover + one page each
    pages = [page.extract_text() for page in reader.pages[1:]]
    for position, (page, number) in enumerate(zip(pages, range(11, 16), strict=True), 1):
        assert f"kp-2015-10/{number:06d}" in page
        assert f"Ri Yong-ho {number}" in page
        assert f"Certificate {position} of 5" in page
    assert "Page 1 of 1" in reader.pages[0].extract_text()
    assert reader.metadata is not None and reader.metadata.title == "Certificates, F-KY-14"
