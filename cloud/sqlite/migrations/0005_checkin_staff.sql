-- 0005: the staff member who typed a visitor's ID number for them
-- (vetnet.CheckIn.Staff); empty for a visitor who checked in alone.
ALTER TABLE checkins ADD COLUMN staff TEXT NOT NULL DEFAULT '';
