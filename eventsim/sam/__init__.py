"""SAM and CloudFormation templates as eventsim configs, and eventsim configs as templates."""
