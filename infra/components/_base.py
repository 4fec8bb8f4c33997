"""What every Stratus component shares."""

from __future__ import annotations

from collections.abc import Sequence

import pulumi

LABELS = {"app": "stratus"}


class StratusComponent(pulumi.ComponentResource):
    """A ComponentResource whose children also wait for the component's ``depends_on``.

    Pulumi does not pass a component's ``depends_on`` on to its children, so without this a
    bucket or an instance could be created before the API it needs is enabled.
    """

    def __init__(self, type_: str, name: str, opts: pulumi.ResourceOptions | None) -> None:
        super().__init__(type_, name, None, opts)
        depends_on = opts.depends_on if opts is not None else None
        self._after: list[pulumi.Input[pulumi.Resource]]
        if depends_on is None:
            self._after = []
        elif isinstance(depends_on, pulumi.Resource):
            self._after = [depends_on]
        elif isinstance(depends_on, Sequence):
            self._after = list(depends_on)
        else:  # an Output or awaitable of a list: its resources are not known yet
            raise TypeError(f"{name}: depends_on must be a resource or a list of resources")

    def _child(self) -> pulumi.ResourceOptions:
        """Options for a child: parented to this component, after the component's dependencies."""
        return pulumi.ResourceOptions(parent=self, depends_on=list(self._after))
