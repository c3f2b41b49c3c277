"""A local Salesforce org: REST, SOQL, OAuth, CPQ objects and an Outbound Message sender."""
