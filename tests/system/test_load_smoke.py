"""The short version of `make loadtest`: a real server process under 16 and then 200 concurrent clients.

No timing is asserted (that is the benchmark's job); what must hold is behaviour: every request gets an answer
or a fast refusal, none hangs or errors, and the server is still up afterwards.
"""

from assistant.config import Settings
from evaluation.loadtest import run


def test_overload_is_shed_not_crashed(corpus_settings: Settings) -> None:
    result = run(smoke=True, data_dir=str(corpus_settings.data_dir))
    steady, burst = result["at_16_clients"], result["at_200_clients"]
    assert steady["statuses"] == {"200": steady["requests"]}
    assert set(burst["statuses"]) <= {"200", "503"}, burst["statuses"]  # no 500s, no timeouts, no dropped sockets
    assert burst["statuses"].get("200", 0) > 0
    assert result["server_alive_after"] is True
