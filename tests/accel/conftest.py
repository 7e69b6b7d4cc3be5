import pytest
from _accel_helpers import EdgeCountingMeter

from lepton import accel
from lepton.accel import _session


@pytest.fixture
def accel_on():
    """accel installed for one test (no report at exit), and gone afterwards."""
    accel.install(report_at_exit=False)
    try:
        yield accel
    finally:
        accel.uninstall()


@pytest.fixture
def compare_on():
    accel.install(compare=True, report_at_exit=False)
    try:
        yield accel
    finally:
        accel.uninstall()


@pytest.fixture
def int8_on():
    accel.install(int8=True, report_at_exit=False)
    try:
        yield accel
    finally:
        accel.uninstall()


@pytest.fixture
def metered():
    """The installed session reads a EdgeCountingMeter."""
    session = _session.current()
    assert session is not None
    session._meter = EdgeCountingMeter()
    return session._meter
