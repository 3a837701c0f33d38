"""A searchable index of harvested transcripts: one Table row per job, fed by Speech Harvester's output."""
