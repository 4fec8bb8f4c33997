"""What every Stratus component shares."""

from __future__ import annotations

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
        if depends_on is None:
            self._after: list[pulumi.Resource] = []
        elif isinstance(depends_on, pulumi.Resource):
            self._after = [depends_on]
        else:
            self._after = list(depends_on)

    def _child(self) -> pulumi.ResourceOptions:
        """Options for a child: parented to this component, after the component's dependencies."""
        return pulumi.ResourceOptions(parent=self, depends_on=list(self._after))
