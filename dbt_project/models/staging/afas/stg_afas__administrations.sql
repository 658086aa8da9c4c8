select
    cast(AdminId as integer) as administration_id,
    AdminNm as administration_name,
    AdminCd as administration_code
from {{ source('afas', 'Profit_Administrations') }}
