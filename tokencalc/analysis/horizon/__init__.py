"""Time-varying inputs and the token output over a horizon (docs/model.md §8).

`trajectory` parses `[trajectory]` tables, `plan` applies them to the resolved
inputs through the one engine, `switches` finds where the binding class
changes, `numerics` integrates, `project` puts the projection together.
"""

from .periods import date_of, default_period, default_resolution, period_edges
from .project import SCHEMA, Projection, Switch, project
from .request import project_request
from .trajectory import (FORMS, VARIABLE_CORE, Trajectory, field_spec, from_resolved, growth_rate, parse_table,
                         parse_flag, parse_trajectory, time_offset)

__all__ = ["FORMS", "SCHEMA", "VARIABLE_CORE", "Projection", "Switch", "Trajectory", "date_of", "default_period",
           "default_resolution", "field_spec", "from_resolved", "growth_rate", "parse_table", "parse_trajectory",
           "parse_flag", "period_edges", "project", "project_request", "time_offset"]
