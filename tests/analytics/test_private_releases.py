import time
from nowrongdoor.synth.generator import generate
from nowrongdoor.analytics import snapshot, measures
import pytest

@pytest.mark.django_db
@pytest.mark.parametrize("n,seed", [(400, 2013), (600, 7), (1200, 2013)])
def test_explore(tmp_path, n, seed):
    t = time.perf_counter()
    generate(youth=n, seed=seed, counties=2)
    print("gen", time.perf_counter() - t)
    t = time.perf_counter()
    snapshot.refresh(path=tmp_path / "a.duckdb")
    print("refresh", time.perf_counter() - t)
    con = snapshot.connect(tmp_path / "a.duckdb")
    print(con.execute("select year(identified_on) y, count(*) from youth_facts group by 1 order by 1").fetchall())
    print(con.execute("select year(at_risk_on) y, count(*) from youth_facts group by 1 order by 1").fetchall())
