"""SAM and CloudFormation templates as eventsim configs, and eventsim configs as templates.

Reading (``eventsim.config.load_config`` calls it): ``template`` parses YAML or JSON with
CloudFormation's short tags and positions; ``intrinsics`` resolves intrinsic functions and
parameters; ``names`` names resources as CloudFormation does; ``mapping`` (with ``build``,
``resources``, ``events``, ``links``) turns a template into a config dict, listing what eventsim
does not honour; ``overlay`` merges an eventsim.yaml that names a template over it.

Writing: ``export`` (with ``export_functions``, ``cfn``) makes a SAM template of a config
(``eventsim export sam``); ``imported`` writes the eventsim.yaml a template amounts to
(``eventsim import``).

This package imports nothing of ``eventsim.config`` on the reading side, which the config
module imports; the writing side takes a validated ``Config``.
"""
