DROP TABLE artifacts;
DROP TABLE job_attempts;
DROP TABLE jobs;
