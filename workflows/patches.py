"""Every `workflow.patched` id of ProjectK's workflows, in one place.

There are none today: ProjectK has no deployment whose running workflows need an old code path,
and the replay histories under `tests/resources/histories/` are recorded from today's code.

How a change that alters a workflow's commands is rolled out once there are running workflows
(the lifecycle of Temporal's patching sample):
1. patched: add `NAME = "what-changed"` here and branch on `workflow.patched(NAME)`; record a
   history with the old code first, keep it under `tests/resources/histories/`, and let the
   replay test prove that both the old and the new histories replay.
2. deprecated: once no running workflow can still take the old branch, replace the branch with
   `workflow.deprecate_patch(NAME)` and the new code only.
3. removed: once no running workflow carries the marker, delete the call and the name here, and
   re-record the histories.
Nothing outside this module names a patch id.
"""

from __future__ import annotations
