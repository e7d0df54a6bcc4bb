"""``v3`` command line with the toy adapter registered, for tests that need a real process.

Usage: ``python tests/_train_runner.py train --adapter toy ...`` or, data parallel,
``torchrun --nproc_per_node=2 tests/_train_runner.py train --adapter toy ...``.

With ``V3_TEST_RANK_STATE=folder`` set, every process also saves its own final
model parameters to ``folder/rank<R>.pt`` (so a test can compare the ranks).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def _keep_rank_state(folder: Path) -> None:
    import torch

    from v3.trainer import Trainer

    make_model = Trainer._make_model

    def _make_and_keep(self: Trainer):  # type: ignore[no-untyped-def]
        model = make_model(self)
        models.append(model)
        return model

    models: list = []
    Trainer._make_model = _make_and_keep  # type: ignore[method-assign]
    fit = Trainer.fit

    def _fit_and_save(self: Trainer, **kwargs):  # type: ignore[no-untyped-def]
        result = fit(self, **kwargs)
        state = {k: v.detach().cpu() for k, v in models[-1].state_dict().items()}
        torch.save(state, folder / f"rank{os.environ.get('RANK', '0')}.pt")
        return result

    Trainer.fit = _fit_and_save  # type: ignore[method-assign]


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import toy_adapter  # noqa: F401  (registers the "toy" adapter)
    from v3_cli.main import main

    if os.environ.get("V3_TEST_RANK_STATE"):
        _keep_rank_state(Path(os.environ["V3_TEST_RANK_STATE"]))
    main()
