"""DualSource (``live --customer-device``): two devices as one sample-aligned two-channel source.

Fake devices deliver scripted blocks, one per ``read``; every sample carries its own index in that
device's stream, so the output shows exactly which agent sample sits next to which customer sample.
"""

import numpy as np
import pytest

from voice_coach.sources.chunk import Chunk
from voice_coach.sources.dual import DualSource

SR = 16000


class FakeDevice:
    """Delivers ``blocks[k]`` samples on its k-th read (0 or None: nothing arrived). Sample values are
    ``offset + index`` in the device's own stream; ``channels`` > 1 puts ``-value`` on the others."""

    def __init__(self, blocks, *, offset: float = 0.0, channels: int = 1):
        self.blocks = list(blocks)
        self.offset = offset
        self.channels = channels
        self.sent = 0
        self.reads = 0
        self.entered = self.exited = False
        self.overflow_count = 0

    @property
    def finished(self) -> bool:
        return self.reads >= len(self.blocks)

    def __enter__(self):
        self.entered = True
        return self

    def __exit__(self, *exc):
        self.exited = True
        return False

    def read(self, timeout):
        n = self.blocks[self.reads] if self.reads < len(self.blocks) else 0
        self.reads += 1
        if not n:
            return None
        values = self.offset + np.arange(self.sent, self.sent + n, dtype=np.float64)  # exact in float32 below 2**24
        self.sent += n
        audio = np.stack([-values if c else values for c in range(self.channels)], axis=1).astype(np.float32)
        audio[:, 0] = values.astype(np.float32)
        return Chunk(np.roll(audio, 1, axis=1) if self.channels > 1 else audio, float(self.reads))


def drain(source: DualSource, reads: int) -> np.ndarray:
    out = [source.read(0.1) for _ in range(reads)]
    got = [c.audio for c in out if c is not None]
    return np.concatenate(got) if got else np.zeros((0, 2), np.float32)


def test_two_devices_with_different_block_sizes_stay_sample_aligned():
    # The agent's device gives 10 ms blocks, the customer's 32 ms blocks at their own moments.
    agent = FakeDevice([160] * 200)
    customer = FakeDevice(([512, 0, 0] * 70)[:200], offset=100_000.0)
    with DualSource(agent, customer) as source:
        audio = drain(source, 200)
        assert agent.entered and customer.entered
    assert agent.exited and customer.exited
    assert audio.dtype == np.float32 and audio.shape[1] == 2
    # Only as far as both devices have delivered: nothing is padded, nothing is invented.
    assert len(audio) == min(agent.sent, customer.sent) and source.padded_s == 0.0
    index = np.arange(len(audio))
    np.testing.assert_array_equal(audio[:, 0], index)  # agent sample k ...
    np.testing.assert_array_equal(audio[:, 1], 100_000.0 + index)  # ... beside customer sample k


def test_the_chosen_agent_channel_is_taken():
    agent = FakeDevice([160] * 10, channels=2)  # channel 1 carries the values, channel 0 their negation
    customer = FakeDevice([160] * 10, offset=100_000.0)
    audio = drain(DualSource(agent, customer, agent_channel=1), 10)
    np.testing.assert_array_equal(audio[:, 0], np.arange(1600))


def test_a_stalled_side_is_padded_with_silence_and_counted():
    # The customer's device delivers 0.2 s, then stalls for 1.5 s, then resumes.
    agent = FakeDevice([800] * 60)  # 50 ms a read, 3 s
    customer = FakeDevice([800] * 4 + [0] * 30 + [800] * 26, offset=100_000.0)
    source = DualSource(agent, customer, max_skew_s=0.5)
    chunks = [source.read(0.1) for _ in range(60)]
    audio = np.concatenate([c.audio for c in chunks if c is not None])
    # The agent never waited more than max_skew for the stalled side ...
    delivered = np.cumsum([800] * 60)
    handed = np.cumsum([0 if c is None else len(c.audio) for c in chunks])
    assert (delivered - handed <= 0.5 * SR).all()
    np.testing.assert_array_equal(audio[:, 0], np.arange(len(audio)))  # agent audio whole, in order
    # ... and the customer's gap was filled with silence, counted in padded_s.
    customer_ch = audio[:, 1]
    padded = int(np.sum(customer_ch == 0.0))
    assert padded > 0 and source.padded_s == pytest.approx(padded / SR)
    heard = customer_ch[customer_ch != 0.0]
    np.testing.assert_array_equal(heard, 100_000.0 + np.arange(customer.sent)[: len(heard)])  # in order, none lost
    # Padding comes in steps of just over max_skew, so up to max_skew + one block of the 1.5 s stall
    # can remain unpadded: then the customer's audio resumes up to that much behind the agent's.
    assert 1.5 - 0.5 - 0.05 <= padded / SR <= 1.5


def test_drift_between_the_two_clocks_stays_bounded():
    # The customer's device runs 0.2 % fast (16032 samples for the agent's 16000): over 10 minutes
    # its surplus grows past max_skew, which pads the agent's side rather than letting latency creep.
    reads = 12_000  # 50 ms each: 10 minutes
    agent = FakeDevice([800] * reads)
    fast = np.diff(np.floor(np.arange(reads + 1) * 800 * 1.002)).astype(int)
    customer = FakeDevice(fast, offset=1e6)
    source = DualSource(agent, customer, max_skew_s=0.5)
    out, skew = 0, []
    for _ in range(reads):
        chunk = source.read(0.1)
        if chunk is not None:
            a = chunk.audio
            assert a.shape[1] == 2
            out += len(a)
        skew.append(max(agent.sent, customer.sent) - out)
    # Neither side is ever held back by more than max_skew (plus one block): the buffers are bounded.
    assert max(skew) <= 0.5 * SR + 800 * 1.002 + 1
    surplus_s = (customer.sent - agent.sent) / SR
    assert surplus_s == pytest.approx(reads * 0.05 * 0.002, rel=0.01)  # 1.2 s of drift
    # What the fast side delivered beyond the slow one is either padded into the slow side or still
    # buffered (less than max_skew): nothing is dropped, and padded_s counts the padding.
    buffered_s = (customer.sent - out) / SR
    assert 0 <= buffered_s <= 0.5 + 0.06
    assert source.padded_s == pytest.approx(out / SR - agent.sent / SR)
    assert source.padded_s == pytest.approx(surplus_s - buffered_s)
    assert source.padded_s >= surplus_s - 0.5 - 0.06 > 0


def test_padding_is_reported_in_the_live_result():
    from voice_coach.app.live import LiveSession
    from voice_coach.engine.core import ChannelMap, Engine
    from voice_coach.output.result import build_result

    agent = FakeDevice([800] * 60)
    customer = FakeDevice([800] * 4 + [0] * 30 + [800] * 26)
    source = DualSource(agent, customer, max_skew_s=0.5)
    engine = Engine(channels=ChannelMap(0, 1))
    end = LiveSession(engine=engine, source=source, consumers=[], channels_in=2).run()
    assert end.error is None and source.padded_s > 0.9
    result = build_result(engine, source="dual", model="none")
    assert result["diagnostics"]["padded_s"] == pytest.approx(source.padded_s, abs=0.001)
